"""Composite augmentations: two merged subjects, affine warps, hue rotation (data.augment)."""

import numpy as np
import pytest

from matting_gui.core.nets.synthetic import generated_backgrounds
from matting_gui.research.data.augment import hue_shift, merge_foregrounds, random_affine
from matting_gui.research.data.samples import MattingSamples
from matting_gui.research.data.sources import Subject
from matting_gui.research.train_config import TrainConfig


def _subject(seed: int, h: int = 120, w: int = 100) -> Subject:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    alpha = np.clip((xx - w / 2) / 12 + rng.normal(0, 0.3, (h, w)), 0, 1).astype(np.float32)  # a soft vertical edge
    fg = rng.random((h, w, 3)).astype(np.float32)
    image = fg * alpha[..., None]
    return Subject(f"s{seed}", image.astype(np.float32), alpha, fg)


def test_merged_subject_composites_like_the_two_layered():
    rng = np.random.default_rng(1)
    f1, f2, bg = (rng.random((20, 30, 3)).astype(np.float32) for _ in range(3))
    a1, a2 = (rng.random((20, 30)).astype(np.float32) for _ in range(2))
    a1[0, :] = a2[0, :] = 0  # a row both leave empty
    fg, alpha = merge_foregrounds(f1, a1, f2, a2)
    layered = f1 * a1[..., None] + (1 - a1[..., None]) * (f2 * a2[..., None] + (1 - a2[..., None]) * bg)
    merged = fg * alpha[..., None] + (1 - alpha[..., None]) * bg
    np.testing.assert_allclose(merged, layered, atol=1e-5)
    np.testing.assert_allclose(alpha, 1 - (1 - a1) * (1 - a2), atol=1e-6)
    assert np.all(alpha[0] == 0) and np.array_equal(fg[0], f1[0])
    assert fg.dtype == np.float32 and fg.min() >= 0 and fg.max() <= 1


@pytest.mark.parametrize("seed", range(4))
def test_affine_warps_colour_and_alpha_together(seed):
    rng = np.random.default_rng(seed)
    alpha = np.zeros((64, 64), np.float32)
    alpha[20:44, 20:44] = 1
    fg = np.stack([alpha, 1 - alpha, np.full_like(alpha, 0.5)], axis=2)  # red inside, green outside
    out_fg, out_a = random_affine(rng, fg, alpha)
    assert out_fg.shape == fg.shape and out_a.shape == alpha.shape
    assert out_a.min() >= 0 and out_a.max() <= 1 and out_fg.min() >= 0 and out_fg.max() <= 1
    assert 0.5 * alpha.sum() < out_a.sum() < 2.0 * alpha.sum()  # scale 0.8–1.25: area 0.64–1.56×
    np.testing.assert_allclose(out_fg[..., 0], out_a, atol=0.15)  # the colour moved with the matte
    assert not np.array_equal(out_a, alpha)


def test_hue_rotation_keeps_grays_and_brightness():
    rng = np.random.default_rng(0)
    img = rng.random((16, 16, 3)).astype(np.float32)
    img[:4] = 0.4  # gray rows
    out = hue_shift(rng, img, 90.0)
    np.testing.assert_allclose(out[:4], img[:4], atol=1e-5)
    np.testing.assert_allclose(out.max(axis=2), img.max(axis=2), atol=1e-4)  # HSV value is kept
    assert np.abs(out - img).mean() > 0.01


def test_augmentations_draw_nothing_when_off_and_change_samples_when_on():
    bgs = generated_backgrounds(0, 3, 96)
    subjects = [_subject(0), _subject(1)]
    plain = MattingSamples(subjects, bgs, 64, seed=5, p_painted=0.5, realism=True)
    off = MattingSamples(subjects, bgs, 64, seed=5, p_painted=0.5, realism=True, p_two_fg=0.0, p_affine=0.0, hue=0.0)
    on = MattingSamples(subjects, bgs, 64, seed=5, p_painted=0.5, realism=True, p_two_fg=1.0, p_affine=1.0, hue=60.0)
    changed = 0
    for i in range(12):  # off: the samples of runs made before these options existed
        a, b, c = plain[i], off[i], on[i]
        for key in ("image", "alpha", "trimap"):
            assert np.array_equal(a[key].numpy(), b[key].numpy())
        alpha, trimap = c["alpha"][0].numpy(), c["trimap"][0].numpy()
        assert np.all(alpha[trimap == 255] >= 1 - 1e-3) and np.all(alpha[trimap == 0] <= 1e-3)
        assert c["inputs"].shape == a["inputs"].shape and np.isfinite(c["inputs"].numpy()).all()
        if c["has_fb"] == 1:  # a composite: the image is still α·F + (1 − α)·B up to noise and JPEG
            comp = c["fg"] * c["alpha"] + c["bg"] * (1 - c["alpha"])
            assert (c["image"] - comp).abs().mean() < 0.05
        changed += not np.array_equal(a["image"].numpy(), c["image"].numpy())
    assert changed >= 6
    again = MattingSamples(subjects, bgs, 64, seed=5, p_painted=0.5, realism=True, p_two_fg=1.0, p_affine=1.0, hue=60.0)
    assert np.array_equal(on[3]["image"].numpy(), again[3]["image"].numpy())  # a pure function of (seed, index)


def test_config_checks_the_augmentation_ranges():
    assert TrainConfig(p_two_fg=0.2, p_affine=0.5, hue=30.0).hue == 30.0
    for bad in ({"p_two_fg": 1.5}, {"p_affine": -0.1}, {"hue": 200.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TrainConfig(**bad)
