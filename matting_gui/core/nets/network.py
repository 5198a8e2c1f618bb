"""The matting network: a DIM-style encoder–decoder with skip connections.

Input ``(B, in_channels, H, W)`` float32 (8 or 14: ``trimap.encode_inputs``), H and W multiples
of 32. Output ``MattingOutput.alpha``: ``(B, 1, H, W)`` in [0, 1], plus the encoder
features at strides 4, 8, 16 and 32 that distillation taps.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from matting_gui.core.nets.config import NetConfig
from matting_gui.core.nets.mobile_encoder import MobileEncoder

#: torch.fx tracing (int8 quantization) patches ``nn.Module.__call__`` process-wide for its
#: duration: a forward pass in another thread meanwhile fails. Inference and tracing hold this.
FX_TRACE_LOCK = threading.Lock()


class MattingOutput(NamedTuple):
    """alpha: (B, 1, H, W) in [0, 1]; features: the 4 encoder stages (B, C_i, H/2^(i+2), W/2^(i+2));
    decoder: the 4 decoder fusions' outputs (B, D_i, H/2^(4-i), W/2^(4-i)), strides 16, 8, 4, 2."""

    alpha: torch.Tensor
    features: tuple[torch.Tensor, ...]
    decoder: tuple[torch.Tensor, ...] = ()


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3x3 conv (no bias) → BatchNorm → ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet basic block; a strided block projects the shortcut with a 1x1 conv."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, H, W) float32 → (B, cout, H/stride, W/stride), non-negative (after ReLU)."""
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x), inplace=True)


class Encoder(nn.Module):
    """Stem (two 3x3 convs, stride 2) and four residual stages at strides 4, 8, 16, 32."""
    def __init__(self, cfg: NetConfig):
        super().__init__()
        convs = [conv_bn_relu(cfg.in_channels, cfg.stem, 2)]
        convs += [conv_bn_relu(cfg.stem, cfg.stem) for _ in range(cfg.stem_convs - 1)]
        self.stem = nn.Sequential(*convs)
        stages = []
        cin = cfg.stem
        for width, depth in zip(cfg.widths, cfg.depths):
            blocks = [BasicBlock(cin, width, 2)] + [BasicBlock(width, width) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Returns the stride-2 stem output and the 4 stage outputs (strides 4..32)."""
        s2 = self.stem(x)
        feats = []
        h = s2
        for stage in self.stages:
            h = stage(h)
            feats.append(h)
        return s2, tuple(feats)


class UpFuse(nn.Module):
    """Upsample x2 (bilinear), concatenate the skip, fuse with a 3x3 conv."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.fuse = conv_bn_relu(cin + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """x (B, cin, h, w), skip (B, cskip, H, W) → (B, cout, H, W), non-negative."""
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([x, skip], dim=1))


class LightUpFuse(nn.Module):
    """relu(bn(up(1x1(x)) + 3x3(skip))): the coarse path is mixed before upsampling, no concat."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.coarse = nn.Conv2d(cin, cout, 1, bias=False)
        self.skip = nn.Conv2d(cskip, cout, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """x (B, cin, h, w), skip (B, cskip, H, W) → (B, cout, H, W), non-negative."""
        up = F.interpolate(self.coarse(x), size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return F.relu(self.bn(self.skip(skip).add_(up)), inplace=True)


class LightRefine(nn.Module):
    """Full-resolution head: relu(up(1x1(h)) + 3x3(input)) → 3x3 → 1 logit."""

    def __init__(self, cin: int, cinput: int, width: int):
        super().__init__()
        self.coarse = nn.Conv2d(cin, width, 1)
        self.input = nn.Conv2d(cinput, width, 3, 1, 1, bias=False)
        self.out = nn.Conv2d(width, 1, 3, 1, 1)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """h (B, cin, h', w'), input x (B, cinput, H, W) → logits (B, 1, H, W), unbounded."""
        up = F.interpolate(self.coarse(h), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.out(F.relu(self.input(x) + up, inplace=True))


class SubpixelRefine(nn.Module):
    """The refinement head at stride 2: relu(1x1(h) + 2x2/2(input)) → 3x3 → 4 logits per 2x2 block
    → pixel shuffle → 1 full-resolution logit. ``h`` is at half the input's size.

    The 2x2 stride-2 conv is a 1x1 conv over the pixel-unshuffled input (each block's 4 pixels × 8
    channels) without materialising the unshuffled copy (30 ms at 1 MP)."""

    def __init__(self, cin: int, cinput: int, width: int):
        super().__init__()
        self.coarse = nn.Conv2d(cin, width, 1)
        self.input = nn.Conv2d(cinput, width, 2, 2, bias=False)
        self.out = nn.Conv2d(width, 4, 3, 1, 1)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """h (B, cin, H/2, W/2), input x (B, cinput, H, W) → logits (B, 1, H, W), unbounded."""
        mixed = F.relu(self.input(x).add_(self.coarse(h)), inplace=True)
        return F.pixel_shuffle(self.out(mixed), 2)


class MattingNet(nn.Module):
    """Encoder (stem + 4 residual stages) → decoder with skips → full-res refinement."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.config = cfg
        self.encoder = MobileEncoder(cfg.in_channels) if cfg.encoder == "efficientnet_lite0" else Encoder(cfg)
        skips = (cfg.widths[2], cfg.widths[1], cfg.widths[0], cfg.stem)
        ups = []
        cin = cfg.widths[3]
        fuse_cls = LightUpFuse if cfg.light_decoder else UpFuse
        for cskip, cout in zip(skips, cfg.decoder):
            ups.append(fuse_cls(cin, cskip, cout))
            cin = cout
        self.decoder = nn.ModuleList(ups)
        # Full resolution: the upsampled decoder output sees the raw input again,
        # so thin structures lost by striding can be recovered (DIM's refinement idea).
        if cfg.subpixel_refine:
            self.refine = SubpixelRefine(cin, cfg.in_channels, cfg.refine)
        elif cfg.light_decoder:
            self.refine = LightRefine(cin, cfg.in_channels, cfg.refine)
        else:
            self.refine = nn.Sequential(
                nn.Conv2d(cin + cfg.in_channels, cfg.refine, 3, 1, 1),
                nn.ReLU(inplace=True),
                nn.Conv2d(cfg.refine, 1, 3, 1, 1),
            )

    def forward(self, x: torch.Tensor) -> MattingOutput:
        """x: (B, in_channels, H, W), H and W multiples of 32 → MattingOutput."""
        s2, feats = self.encoder(x)
        h = feats[3]
        decoded = []
        for up, skip in zip(self.decoder, (feats[2], feats[1], feats[0], s2)):
            h = up(h, skip)
            decoded.append(h)
        if self.config.light_decoder:  # LightRefine or SubpixelRefine: they take (h, x)
            logits = self.refine(h, x)
        else:
            h = F.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
            logits = self.refine(torch.cat([h, x], dim=1))
        return MattingOutput(torch.sigmoid(logits), feats, tuple(decoded))


class AlphaOnly(nn.Module):
    """x (B, in_channels, H, W) → alpha (B, 1, H, W) in [0, 1]: the matte without the distillation features,
    for tracing (int8 quantization, ONNX export)."""

    def __init__(self, net: MattingNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, H, W) float32 → alpha (B, 1, H, W) in [0, 1]."""
        return self.net(x).alpha


def fuse_for_inference(model: MattingNet) -> MattingNet:
    """Fold every BatchNorm into the conv before it (eval mode), in place; returns the model.

    Outputs are unchanged up to float rounding; each fused pair saves one memory
    pass over its feature map. Only for inference: the fused model cannot train.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model.eval()
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            layers = list(module)
            for i in range(len(layers) - 1):
                if isinstance(layers[i], nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d):
                    module[i] = fuse_conv_bn_eval(layers[i], layers[i + 1])
                    module[i + 1] = nn.Identity()
        elif isinstance(module, LightUpFuse) and isinstance(module.bn, nn.BatchNorm2d):
            # bn(a + b) = bn_scale·a + (bn_scale·b + shift): scale the coarse conv, fold the rest into skip
            bn = module.bn
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            with torch.no_grad():
                module.coarse.weight.mul_(scale.view(-1, 1, 1, 1))
            module.skip = fuse_conv_bn_eval(module.skip, bn)
            module.bn = nn.Identity()
        elif isinstance(module, BasicBlock):
            if isinstance(module.bn1, nn.BatchNorm2d):
                module.conv1 = fuse_conv_bn_eval(module.conv1, module.bn1)
                module.bn1 = nn.Identity()
            if isinstance(module.bn2, nn.BatchNorm2d):
                module.conv2 = fuse_conv_bn_eval(module.conv2, module.bn2)
                module.bn2 = nn.Identity()
    return model


def build_network(cfg: NetConfig) -> MattingNet:
    """Build an untrained network from its config."""
    return MattingNet(cfg)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters, frozen ones included (a weight average or a frozen teacher has no
    trainable ones, and its card must still state its size)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, height: int = 512, width: int = 512) -> int:
    """Multiply-accumulates of one forward pass at (height, width), convs and linears only."""
    total = 0

    def hook(mod: nn.Module, inp, out) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
            total += out.numel() // out.shape[0] * k
        elif isinstance(mod, nn.Linear):
            total += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            cin = model.config.in_channels if hasattr(model, "config") else 3
            device = next(model.parameters(), torch.empty(0)).device
            model(torch.zeros(1, cin, height, width, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total
