import numpy as np
import pytest

from matting_gui.core.nets.synthetic import generated_backgrounds, synthetic_foliage


@pytest.mark.parametrize("seed", range(4))
def test_foliage_is_opaque_leaves_with_gaps_and_textured_colour(seed):
    bgs = generated_backgrounds(seed, 2, 96)
    fg, alpha = synthetic_foliage(np.random.default_rng(seed), 256, bgs[0], bgs[1])
    assert fg.shape == (256, 256, 3) and alpha.shape == (256, 256)
    assert fg.dtype == alpha.dtype == np.float32
    assert 0 <= fg.min() and fg.max() <= 1 and 0 <= alpha.min() and alpha.max() <= 1
    solid = alpha > 0.99
    partial = (alpha > 0.02) & (alpha < 0.98)
    assert solid.sum() > 200 and (alpha == 0).sum() > 200
    assert partial.sum() < 0.7 * (alpha > 0.02).sum()  # leaves are opaque: their edges and twigs are partial
    ys, xs = np.nonzero(alpha > 0.5)
    crown = alpha[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    assert (crown < 0.02).mean() > 0.15  # background shows through the gaps between the leaves
    luminance = fg[solid].mean(1)
    assert luminance.std() > 0.03  # leaves in light and in shadow: no single foreground colour


def test_foliage_is_deterministic_in_the_generator():
    bg = generated_backgrounds(0, 1, 64)[0]
    a = synthetic_foliage(np.random.default_rng(3), 96, bg)
    b = synthetic_foliage(np.random.default_rng(3), 96, bg)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
