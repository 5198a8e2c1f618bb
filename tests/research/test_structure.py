"""Solid structure painted into training backgrounds (data.structure, p_bg_structure): each kind draws thin or
thick lines of exact coverage, it changes only the background (α and trimap stay the sample's own), and it is
drawn only when asked, so earlier runs' samples are unchanged."""

import numpy as np
import pytest

from matting_gui.research.data.samples import MattingSamples
from matting_gui.research.data.structure import STRUCTURE_KINDS, add_structure, structure_coverage
from matting_gui.research.structure_check import lattice_shares, structure_under_band
from matting_gui.research.train_config import TrainConfig
from matting_gui.research.train_data import generated_backgrounds


@pytest.mark.parametrize("kind", STRUCTURE_KINDS)
def test_each_kind_covers_part_of_the_square_with_antialiased_lines(kind):
    covered = []
    for seed in range(4):
        c = structure_coverage(np.random.default_rng(seed), 128, kind)
        assert c.shape == (128, 128) and c.dtype == np.float32 and c.min() >= 0 and c.max() <= 1
        covered.append((c > 0.5).mean())
        assert ((c > 0.02) & (c < 0.98)).any()  # edges are coverage, not a hard mask
    assert 0.0 < max(covered) < 0.9  # structure, not a wall


def test_add_structure_changes_the_background_where_it_is_drawn_only():
    bg = np.full((96, 96, 3), 0.6, np.float32)
    out = add_structure(np.random.default_rng(3), bg)
    assert out.shape == bg.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    changed = np.abs(out - bg).max(-1) > 1e-3
    assert 0 < changed.mean() < 1


def test_samples_draw_structure_only_when_asked_and_keep_alpha():
    bgs = generated_backgrounds(0, 3, 96)
    plain = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3)
    off = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3, p_bg_structure=0.0)
    for i in range(6):
        assert np.array_equal(plain[i]["image"].numpy(), off[i]["image"].numpy())
    on = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3, p_bg_structure=1.0)
    differs = 0
    for i in range(6):
        a, b = off[i], on[i]
        assert a["alpha"].shape == b["alpha"].shape and b["bg"].shape == (3, 64, 64)
        # the composite is αF + (1−α)B with the structured background: the subject's opaque pixels keep F
        opaque = b["alpha"][0].numpy() > 0.999
        image, fg = b["image"].numpy(), b["fg"].numpy()
        assert np.abs(image - fg)[:, opaque].max(initial=0) < 0.08  # grain and JPEG only
        differs += not np.array_equal(a["bg"].numpy(), b["bg"].numpy())
    assert differs >= 4
    with pytest.raises(ValueError, match="p_bg_structure"):
        TrainConfig(p_bg_structure=1.5)


def test_lattice_shares_count_the_structure_called_foreground():
    image = np.full((8, 8, 3), 0.8, np.float32)
    image[:, 2] = 0.1  # a girder column
    trimap = np.full((8, 8), 128, np.uint8)
    alpha = np.zeros((8, 8), np.float32)
    under, girders = structure_under_band(image, trimap, alpha)
    assert under.all() and girders.sum() == 8
    pred = np.zeros((8, 8), np.float32)
    pred[:4, 2] = 0.9  # half the girder called foreground
    shares = lattice_shares(pred, image, trimap, alpha)
    assert shares == {"background": 4 / 64, "girders": 0.5}


def test_structure_band_puts_the_structure_under_a_wide_band():
    bgs = generated_backgrounds(0, 3, 128)
    usual = MattingSamples([], bgs, 128, seed=2, p_bg_structure=1.0)
    wide = MattingSamples([], bgs, 128, seed=2, p_bg_structure=1.0, structure_band=40)
    widths = []
    for i in range(6):
        a, b = usual[i], wide[i]
        assert np.array_equal(a["image"].numpy(), b["image"].numpy())  # the same composite, another trimap
        t = b["trimap"][0].numpy()
        support = b["alpha"][0].numpy() > 1e-3
        assert (t[~support] != 255).all() and set(np.unique(t)) <= {0, 128, 255}
        widths.append(((t == 128) & ~support).sum() / max(1, ((a["trimap"][0].numpy() == 128) & ~support).sum()))
    assert np.median(widths) > 1.5  # far more background under the band
    with pytest.raises(ValueError, match="structure_band"):
        TrainConfig(structure_band=-1)
