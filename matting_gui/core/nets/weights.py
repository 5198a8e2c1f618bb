"""Saving and loading network weights: ``.safetensors`` + a JSON model card.

The safetensors header carries the network config (metadata ``config``), so a
weights file alone rebuilds its network. Loading never unpickles: safetensors
parses a JSON header and raw tensor bytes, and anything else (a pickle, a
truncated file) is refused with a ``WeightsError``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as save_bytes

from matting_gui.core.files.safe_write import atomic_write_bytes
from matting_gui.core.nets.config import NetConfig
from matting_gui.core.nets.model_files import WeightsError, card_path, resolve_model
from matting_gui.core.nets.network import MattingNet, build_network, count_macs, count_parameters

FORMAT = "matting-gui/1"


def save_weights(path: str | os.PathLike, model: MattingNet, card: dict | None = None) -> Path:
    """Write ``model``'s weights to ``path`` (.safetensors) and its card (.json), atomically.

    The card gets the config, parameter count and MACs at 512² added.
    """
    path = Path(path)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "config": model.config.to_json()}
    atomic_write_bytes(path, save_bytes(state, metadata=meta))
    full = {
        "name": model.config.name,
        "config": json.loads(model.config.to_json()),
        "parameters": count_parameters(model),
        "macs_512": count_macs(model, 512, 512),
    } | dict(card or {})
    atomic_write_bytes(card_path(path), (json.dumps(full, indent=2, sort_keys=False) + "\n").encode())
    return path


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def read_header(path: Path) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(metadata, tensor shapes) of a safetensors file, without reading its tensors; ``WeightsError``
    for anything that is not a regular, valid safetensors file."""
    if not path.is_file():  # a FIFO or device would block or never end
        raise WeightsError(f"{path}: not a regular file")
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            shapes = {key: tuple(f.get_slice(key).get_shape()) for key in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path}: not a valid safetensors weights file ({_first_line(exc)})") from None
    return meta, shapes


def read_state(path: Path, shapes: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]]) -> dict:
    """The tensors of ``path`` once its header's ``shapes`` equal the ``expected`` ones of the network its
    config builds; ``WeightsError`` on a mismatch, an unreadable file, or NaN / infinite values."""
    if shapes != expected:
        bad = sorted(set(shapes) ^ set(expected)) or sorted(k for k in shapes if shapes[k] != expected[k])
        raise WeightsError(f"{path}: weights do not match their config ({len(bad)} tensors differ, e.g. {bad[0]})")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path}: not a valid safetensors weights file ({_first_line(exc)})") from None
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise WeightsError(f"{path}: weights contain NaN or infinite values ({broken[0]})")
    return state


def read_card(path: Path) -> dict:
    """The JSON card beside weights ``path``: a dict, empty when missing, unreadable or not an object."""
    cp = card_path(path)
    card: dict = {}
    if cp.is_file():
        try:
            card = json.loads(cp.read_text())
        except (OSError, ValueError):
            card = {}
    return card if isinstance(card, dict) else {}


def load_network(name_or_path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[MattingNet, dict]:
    """Rebuild a network from a weights file; returns (model in eval mode, card dict)."""
    path = resolve_model(name_or_path)
    meta, shapes = read_header(path)
    if meta.get("format") != FORMAT or "config" not in meta:
        raise WeightsError(f"{path}: safetensors file is not a matting-gui network (no config in its header)")
    try:
        cfg = NetConfig.from_json(meta["config"])  # bounds-checked: nothing huge is ever built
        with torch.device("meta"):  # shapes only, no memory: the header is checked before any allocation
            expected = {k: tuple(v.shape) for k, v in build_network(cfg).state_dict().items()}
    except (ValueError, RuntimeError, TypeError, AttributeError) as exc:
        raise WeightsError(f"{path}: invalid network config in its header ({_first_line(exc)})") from None
    state = read_state(path, shapes, expected)
    try:
        model = build_network(cfg)
        model.load_state_dict(state, strict=True)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise WeightsError(f"{path}: weights do not match their config ({_first_line(exc)})") from None
    card = read_card(path)
    if not isinstance(card.get("name"), str):
        card["name"] = cfg.name
    card["parameters"] = count_parameters(model)  # counted, never trusted from the card
    return model.to(device).eval(), card
