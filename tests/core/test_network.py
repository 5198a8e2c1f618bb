import json

import pytest
import torch

from matting_gui.core.nets.config import STUDENT, STUDENT_FAST, STUDENT_WIDE, TEACHER, NetConfig, preset
from matting_gui.core.nets.network import build_network, count_macs, count_parameters, fuse_for_inference


@pytest.mark.parametrize("cfg", [TEACHER, STUDENT, STUDENT_WIDE, STUDENT_FAST],
                         ids=["teacher", "student", "student_wide", "student_fast"])
def test_forward_shapes_and_range(cfg):
    net = build_network(cfg).eval()
    x = torch.randn(2, cfg.in_channels, 96, 64)
    with torch.inference_mode():
        out = net(x)
    assert out.alpha.shape == (2, 1, 96, 64)
    assert 0 <= out.alpha.min() and out.alpha.max() <= 1
    assert len(out.features) == 4
    for i, (f, width) in enumerate(zip(out.features, cfg.widths)):
        stride = 2 ** (i + 2)
        assert f.shape == (2, width, 96 // stride, 64 // stride)


def test_student_is_light():
    t, s = build_network(TEACHER), build_network(STUDENT)
    assert count_parameters(s) <= 0.25 * count_parameters(t)
    assert count_macs(s, 512, 512) <= 0.25 * count_macs(t, 512, 512)
    assert sum(STUDENT.depths) < sum(TEACHER.depths)


def test_wide_student_differs_only_in_its_high_resolution_end():
    assert preset("student_wide") == STUDENT_WIDE and NetConfig.from_json(STUDENT_WIDE.to_json()) == STUDENT_WIDE
    assert (STUDENT_WIDE.stem, STUDENT_WIDE.widths, STUDENT_WIDE.depths) == (STUDENT.stem, STUDENT.widths, STUDENT.depths)
    assert STUDENT_WIDE.decoder[2:] == TEACHER.decoder[2:] and STUDENT_WIDE.refine == TEACHER.refine
    s, w = build_network(STUDENT), build_network(STUDENT_WIDE)
    assert count_macs(s, 512, 512) < count_macs(w, 512, 512) <= 0.25 * count_macs(build_network(TEACHER), 512, 512)
    out = w(torch.rand(1, STUDENT_WIDE.in_channels, 64, 64))
    assert out.alpha.shape == (1, 1, 64, 64) and [d.shape[1] for d in out.decoder] == list(STUDENT_WIDE.decoder)


def test_fast_student_refines_every_pixel_of_a_block_on_its_own():
    """The sub-pixel head works at stride 2 but still gives each full-resolution pixel its own alpha
    (not one value per 2x2 block), and a one-pixel change acts mostly around that pixel."""
    assert (STUDENT_FAST.widths, STUDENT_FAST.decoder) == (STUDENT_WIDE.widths, STUDENT_WIDE.decoder)
    assert count_macs(build_network(STUDENT_FAST)) < 0.75 * count_macs(build_network(STUDENT_WIDE))
    torch.manual_seed(0)
    net = build_network(STUDENT_FAST).eval()
    x = torch.rand(1, 8, 64, 64)
    with torch.inference_mode():
        base = net(x).alpha[0, 0]
        x[0, :3, 21, 33] += 1.0  # one pixel's colour
        moved = (net(x).alpha[0, 0] - base).abs()
    assert moved[21, 33] > 0
    assert not torch.allclose(moved[20:22, 32:34], moved[21, 33].expand(2, 2))  # not one value per 2x2 block
    far = moved.clone()
    far[18:25, 30:37] = 0
    assert far.max() < 0.2 * moved.max()  # the deep features see the whole crop, but the head sees 6x6


def test_config_checks_the_head_options():
    with pytest.raises(ValueError, match="subpixel_refine needs light_decoder"):
        NetConfig(subpixel_refine=True)
    with pytest.raises(ValueError, match="stem_convs"):
        NetConfig(stem_convs=3)
    old = json.loads(STUDENT_WIDE.to_json())  # weights written before these keys existed still load
    del old["stem_convs"], old["subpixel_refine"]
    assert NetConfig.from_dict(old) == STUDENT_WIDE


def test_config_roundtrip_and_unknown_keys():
    assert NetConfig.from_json(STUDENT.to_json()) == STUDENT
    data = json.loads(TEACHER.to_json()) | {"bogus": 1}
    with pytest.raises(ValueError, match="bogus"):
        NetConfig.from_dict(data)
    with pytest.raises(ValueError, match="unknown preset"):
        preset("huge")


def test_count_macs_of_one_conv():
    net = torch.nn.Sequential(torch.nn.Conv2d(8, 4, 3, padding=1))
    net.config = NetConfig(in_channels=8)
    assert count_macs(net, 10, 10) == 10 * 10 * 4 * 8 * 9


@pytest.mark.parametrize("cfg", [STUDENT, STUDENT_FAST], ids=["student", "student_fast"])
def test_channels_last_training_step_student(cfg):
    # guards the heap corruption seen with 12-channel stems under channels_last backward
    net = build_network(cfg).to(memory_format=torch.channels_last)
    x = torch.randn(2, 8, 64, 64).contiguous(memory_format=torch.channels_last)
    net(x).alpha.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("cfg", [TEACHER, STUDENT, STUDENT_WIDE, STUDENT_FAST],
                         ids=["teacher", "student", "student_wide", "student_fast"])
def test_fused_network_gives_the_same_alpha(cfg):
    net = build_network(cfg)
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        net(torch.randn(4, 8, 64, 64))
    net.eval()
    x = torch.randn(1, 8, 64, 96)
    with torch.inference_mode():
        ref = net(x).alpha
        fused = fuse_for_inference(net)
        out = fused(x).alpha
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert torch.allclose(out, ref, atol=1e-5)
