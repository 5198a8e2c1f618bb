import pytest
import torch
import torch.nn.functional as F

from matting_gui.research.distill import (
    Distiller,
    attention_map,
    batch_similarity,
    channel_similarity,
    parse_kinds,
    parse_stages,
    spatial_similarity,
    spatial_similarity_mse,
)
from matting_gui.research.losses import charbonnier, composition_loss, matting_loss


def _feats(b=3, widths=(8, 16, 24, 32), side=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(b, c, side // 2 ** (i + 2), side // 2 ** (i + 2), generator=g) for i, c in enumerate(widths)]


def test_charbonnier_normalised_by_unknown_count():
    pred = torch.zeros(1, 1, 4, 4)
    gt = torch.ones(1, 1, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1
    assert charbonnier(pred, gt, mask).item() == pytest.approx(1.0, abs=1e-5)
    assert charbonnier(gt, gt, mask).item() == pytest.approx(1e-6, abs=1e-9)


def test_composition_loss_zero_for_true_alpha():
    a = torch.rand(2, 1, 8, 8)
    fg, bg = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    img = a * fg + (1 - a) * bg
    assert composition_loss(a, fg, bg, img, torch.ones_like(a)).item() < 1e-5


def test_matting_loss_output_term_mixes_teacher_and_gt():
    b = {"alpha": torch.ones(1, 1, 8, 8), "unknown": torch.ones(1, 1, 8, 8), "fg": torch.rand(1, 3, 8, 8),
         "bg": torch.rand(1, 3, 8, 8), "image": torch.rand(1, 3, 8, 8), "has_fb": torch.ones(1)}
    pred = torch.zeros(1, 1, 8, 8)
    t = matting_loss(pred, b, teacher_alpha=torch.zeros(1, 1, 8, 8), w1=0.5)
    assert t["alpha"].item() == pytest.approx(0.5 * 1e-6 + 0.5 * 1.0, abs=1e-4)
    assert set(t) >= {"alpha", "alpha_gt", "alpha_teacher", "comp", "grad", "total"}


def test_teacher_gate_drops_the_teacher_where_it_is_wrong():
    """Left half: the teacher agrees with the truth (mixed term); right half: it is off by 1 (truth alone)."""
    gt = torch.ones(1, 1, 8, 8)
    teacher = gt.clone()
    teacher[..., 4:] = 0.0
    pred = torch.full((1, 1, 8, 8), 0.5)
    b = {"alpha": gt, "unknown": torch.ones(1, 1, 8, 8), "fg": torch.rand(1, 3, 8, 8),
         "bg": torch.rand(1, 3, 8, 8), "image": torch.rand(1, 3, 8, 8), "has_fb": torch.ones(1)}
    ungated = matting_loss(pred, b, teacher_alpha=teacher, w1=0.5)
    gated = matting_loss(pred, b, teacher_alpha=teacher, w1=0.5, teacher_gate=0.1)
    # every pixel is 0.5 from the truth; on the right half the ungated term mixes in the teacher's 0.5 too,
    # so both are 0.5 there, but gating still counts only the truth: the values agree, the trust does not
    assert gated["alpha"].item() == pytest.approx(0.5, abs=1e-4)
    assert gated["teacher_trusted"].item() == pytest.approx(0.5)
    assert ungated["alpha"].item() == pytest.approx(0.5, abs=1e-4)
    # where the student copies the teacher's mistake, the gate makes it pay the full error
    copy = teacher.clone()
    ungated = matting_loss(copy, b, teacher_alpha=teacher, w1=0.5)["alpha"].item()
    gated = matting_loss(copy, b, teacher_alpha=teacher, w1=0.5, teacher_gate=0.1)["alpha"].item()
    assert ungated == pytest.approx(0.25, abs=1e-4)  # right half: 0.5·0 + 0.5·1, averaged with a zero left half
    assert gated == pytest.approx(0.5, abs=1e-4)  # right half: the truth alone, 1
    # a gate of 1 is the letter's term, bit for bit
    assert torch.equal(matting_loss(copy, b, teacher_alpha=teacher, w1=0.5, teacher_gate=1.0)["alpha"],
                       matting_loss(copy, b, teacher_alpha=teacher, w1=0.5)["alpha"])


def test_similarity_shapes():
    f = torch.rand(2, 16, 64, 48)
    assert spatial_similarity(f).shape == (2, 32 * 32, 32 * 32)  # pooled to ≤ 32 per side
    assert spatial_similarity(torch.rand(2, 16, 8, 6)).shape == (2, 48, 48)
    assert channel_similarity(f).shape == (2, 16, 16)
    assert batch_similarity(f).shape == (2, 2)
    assert attention_map(f).shape == (2, 64 * 48)


@pytest.mark.parametrize("shape_s, shape_t", [((3, 8, 64, 48), (3, 24, 64, 48)), ((2, 40, 6, 5), (2, 16, 6, 5))])
def test_spatial_mse_through_gram_matrices_equals_the_explicit_one(shape_s, shape_t):
    """The training term never forms the N×N matrices, yet equals their MSE, in value and gradient."""
    torch.manual_seed(3)
    fs = torch.relu(torch.randn(shape_s)).requires_grad_()
    ft = torch.relu(torch.randn(shape_t))
    explicit = F.mse_loss(spatial_similarity(fs), spatial_similarity(ft))
    (g_explicit,) = torch.autograd.grad(explicit, fs)
    fast = spatial_similarity_mse(fs, ft)
    (g_fast,) = torch.autograd.grad(fast, fs)
    assert fast.dtype == torch.float32
    assert fast.item() == pytest.approx(explicit.item(), rel=1e-4)
    torch.testing.assert_close(g_fast, g_explicit, rtol=1e-3, atol=1e-7)
    with pytest.raises(ValueError, match="positions"):
        spatial_similarity_mse(fs, ft[:, :, :4])


@pytest.mark.parametrize("kind", ["spatial", "channel", "batch", "attention"])
def test_zero_when_equal_and_scale_invariant(kind):
    widths = (8, 16, 24, 32)
    d = Distiller([kind], widths, widths)
    if kind == "channel":  # identity connectors, so equal features give equal matrices
        for c in d.connectors:
            torch.nn.init.dirac_(c.weight)
    f = _feats()
    assert d(f, f)[f"kd_{kind}"].item() == pytest.approx(0.0, abs=1e-10)
    scaled = [x * 7.5 for x in f]
    assert d(scaled, f)[f"kd_{kind}"].item() == pytest.approx(0.0, abs=1e-8)
    assert d(_feats(seed=1), f)[f"kd_{kind}"].item() > 0


def test_mismatched_channels_and_gradients_only_to_student():
    d = Distiller(["spatial", "channel", "batch", "attention"], (4, 8, 12, 16), (8, 16, 24, 32))
    student = [x.requires_grad_() for x in _feats(widths=(4, 8, 12, 16))]
    teacher = [x.requires_grad_() for x in _feats(widths=(8, 16, 24, 32), seed=2)]
    terms = d(student, teacher)
    terms["kd_total"].backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in student)
    assert all(t.grad is None for t in teacher)
    assert all(c.weight.grad is not None for c in d.connectors)


def test_decoder_term_uses_the_decoder_maps_of_real_networks():
    """``decoder``: spatial similarity on the 4 decoder outputs; zero against itself, needs both maps."""
    from matting_gui.core.nets.config import STUDENT, TEACHER
    from matting_gui.core.nets.network import build_network

    torch.manual_seed(0)
    x = torch.rand(2, 8, 64, 64)
    student = build_network(STUDENT)
    s_out, t_out = student(x), build_network(TEACHER)(x)
    assert [f.shape[-1] for f in s_out.decoder] == [4, 8, 16, 32]  # strides 16, 8, 4, 2
    assert [f.shape[1] for f in s_out.decoder] == list(STUDENT.decoder)
    d = Distiller(["decoder"], STUDENT.widths, TEACHER.widths)
    same = d(s_out.features, s_out.features, s_out.decoder, s_out.decoder)["kd_decoder"]
    assert same.item() == pytest.approx(0.0, abs=1e-10)
    terms = d(s_out.features, t_out.features, s_out.decoder, t_out.decoder)
    assert terms["kd_decoder"].item() > 0 and terms["kd_total"] is not None
    terms["kd_total"].backward()  # reaches the student's decoder, not only its encoder
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in student.decoder[-1].parameters())
    with pytest.raises(ValueError, match="decoder maps"):
        d(s_out.features, t_out.features)


@pytest.mark.parametrize("kind", ["spatial", "channel", "batch", "attention"])
def test_stages_limit_the_encoder_terms_to_the_named_stages(kind):
    """Features that differ only at stage 4 (stride 32) cost nothing when the terms cover stages 1-3."""
    widths = (8, 16, 24, 32)
    student, teacher = _feats(), _feats()
    student[3] = _feats(seed=5)[3]

    def distiller(stages):
        d = Distiller([kind], widths, widths, stages=stages)
        for c in d.connectors:  # identity connectors: equal stages cost nothing in the channel term too
            torch.nn.init.dirac_(c.weight)
        return d(student, teacher)[f"kd_{kind}"].item()

    assert distiller((1, 2, 3)) == pytest.approx(0.0, abs=1e-10)
    assert distiller((4,)) == pytest.approx(distiller((1, 2, 3, 4))) and distiller((4,)) > 0


def test_parse_stages_and_the_config_check():
    from matting_gui.research.train_config import TrainConfig

    assert parse_stages("all") == (1, 2, 3, 4)
    assert parse_stages(" 3+1 ") == (1, 3)
    for bad in ("", "0+1", "5", "one"):
        with pytest.raises(ValueError, match="distillation stages"):
            parse_stages(bad)
    assert TrainConfig(kd_stages="1+2+3").kd_stages == "1+2+3"
    with pytest.raises(ValueError, match="distillation stages"):
        TrainConfig(kd_stages="1+9")


def test_parse_kinds():
    assert parse_kinds("spatial+channel") == ("spatial", "channel")
    assert parse_kinds("none") == ()
    with pytest.raises(ValueError, match="unknown distillation"):
        parse_kinds("spatial+magic")
