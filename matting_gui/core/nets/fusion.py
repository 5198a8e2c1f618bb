"""The fusion network: learns, per pixel, which colour-line solver's matte to trust.

After Cho, Tai & Kweon (ECCV 2016): the closed-form (local) and KNN (nonlocal) mattes are given to
a small CNN beside the photo and the trimap, and it outputs a per-pixel softmax blend of them plus
a small bounded residual, so that it can only choose among the solvers' answers and nudge them:

    α = clip(Σ_k softmax(w)_k · m_k + RESIDUAL · tanh(r), 0, 1),   known pixels forced afterwards.

Input ``(B, 5 + K, H, W)`` float32: photo − 0.5 (3), trimap foreground and background masks (2), the
K solver mattes in ``config.solvers`` order, each in [0, 1]; any H, W (no padding needed). Output
``(B, 1, H, W)`` α in [0, 1]. Its config travels in the safetensors header, as the main networks' does.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from matting_gui.core.files.safe_write import atomic_write_bytes
from matting_gui.core.nets.model_files import WeightsError, card_path
from matting_gui.core.nets.weights import read_card, read_header, read_state

FORMAT = "matting-gui-fusion/1"
#: Largest residual the network may add to the solvers' blend.
RESIDUAL = 0.2


@dataclasses.dataclass(frozen=True)
class FusionConfig:
    """width: channels of every hidden layer; dilations: one 3×3 conv each (receptive field
    1 + 2·Σ dilations px); solvers: the mattes it reads, in order: solver names (``inference.solvers``)
    and, optionally, ``network`` (the main network's matte)."""

    name: str = "fusion"
    width: int = 32
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1)
    solvers: tuple[str, ...] = ("closed_form", "knn")

    def __post_init__(self) -> None:
        if not (4 <= self.width <= 256 and 1 <= len(self.dilations) <= 16 and 1 <= len(self.solvers) <= 8
                and all(1 <= d <= 64 for d in self.dilations)):
            raise ValueError(f"fusion config out of range: {self}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FusionConfig:
        raw = json.loads(text)
        if not isinstance(raw, dict) or set(raw) - {f.name for f in dataclasses.fields(cls)}:
            raise ValueError("not a fusion config")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return cls(**kw)


class FusionNet(nn.Module):
    """See the module docstring for inputs and output."""

    def __init__(self, config: FusionConfig):
        super().__init__()
        self.config = config
        k = len(config.solvers)
        layers: list[nn.Module] = []
        ch = 5 + k
        for d in config.dilations:
            layers += [nn.Conv2d(ch, config.width, 3, padding=d, dilation=d), nn.LeakyReLU(0.1)]
            ch = config.width
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(ch, k + 1, 1)
        nn.init.zeros_(self.head.weight)  # starts as the solvers' plain mean
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = len(self.config.solvers)
        mattes = x[:, 5:5 + k]
        out = self.head(self.body(x))
        blend = (torch.softmax(out[:, :k], 1) * mattes).sum(1, keepdim=True)
        return (blend + RESIDUAL * torch.tanh(out[:, k:])).clamp(0, 1)


def fusion_input(image: np.ndarray, trimap: np.ndarray, mattes: np.ndarray) -> torch.Tensor:
    """(1, 5 + K, H, W) float32 network input from image float (H, W, 3) in [0, 1], trimap uint8 (H, W)
    and solver mattes float (K, H, W) in [0, 1]."""
    planes = np.concatenate([
        np.moveaxis(image.astype(np.float32), -1, 0) - 0.5,
        (trimap >= 255)[None].astype(np.float32),
        (trimap == 0)[None].astype(np.float32),
        mattes.astype(np.float32),
    ])
    return torch.from_numpy(planes)[None]


def run_fusion(model: FusionNet, image: np.ndarray, trimap: np.ndarray, mattes: np.ndarray) -> np.ndarray:
    """The fused matte: float32 (H, W) in [0, 1], exact on the trimap's known pixels. Arguments as
    ``fusion_input``; runs on the CPU under ``torch.inference_mode``."""
    with torch.inference_mode():
        alpha = model(fusion_input(image, trimap, mattes))[0, 0].numpy()
    return np.where(trimap >= 255, 1.0, np.where(trimap == 0, 0.0, alpha)).astype(np.float32)


def save_fusion(path: str | os.PathLike, model: FusionNet, card: dict | None = None) -> Path:
    """Write weights (.safetensors, config in the header) and card (.json), each atomically."""
    from safetensors.torch import save as save_bytes

    path = Path(path)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save_bytes(state, metadata={"format": FORMAT, "config": model.config.to_json()}))
    full = {"name": model.config.name, "config": dataclasses.asdict(model.config),
            "parameters": sum(p.numel() for p in model.parameters())} | dict(card or {})
    atomic_write_bytes(card_path(path), (json.dumps(full, indent=2) + "\n").encode())
    return path


def load_fusion(path: str | os.PathLike) -> tuple[FusionNet, dict]:
    """Rebuild a fusion network from its weights file: (model in eval mode, card dict). Never unpickles;
    ``WeightsError`` (one line) for a missing, corrupt or mismatched file."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"{path}: fusion weights not found")
    meta, shapes = read_header(path)
    if meta.get("format") != FORMAT or "config" not in meta:
        raise WeightsError(f"{path}: safetensors file is not a matting-gui fusion network")
    try:
        cfg = FusionConfig.from_json(meta["config"])
        with torch.device("meta"):
            expected = {k: tuple(v.shape) for k, v in FusionNet(cfg).state_dict().items()}
    except (ValueError, TypeError) as exc:
        raise WeightsError(f"{path}: invalid fusion config in its header ({exc})") from None
    model = FusionNet(cfg)
    model.load_state_dict(read_state(path, shapes, expected), strict=True)
    return model.eval(), read_card(path)
