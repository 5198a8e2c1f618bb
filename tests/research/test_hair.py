import numpy as np
import pytest

from matting_gui.core.nets.synthetic import generated_backgrounds
from matting_gui.research.data.hair import synthetic_hair
from matting_gui.research.data.samples import MattingSamples
from matting_gui.research.train_config import TrainConfig


@pytest.mark.parametrize("seed", range(6))
def test_hair_is_an_opaque_head_with_fine_partial_strands_around_it(seed):
    bgs = generated_backgrounds(seed, 2, 96)
    fg, alpha = synthetic_hair(np.random.default_rng(seed), 256, bgs[0], bgs[1])
    assert fg.shape == (256, 256, 3) and alpha.shape == (256, 256)
    assert fg.dtype == alpha.dtype == np.float32
    assert 0 <= fg.min() and fg.max() <= 1 and 0 <= alpha.min() and alpha.max() <= 1
    solid = alpha > 0.99
    partial = (alpha > 0.02) & (alpha < 0.98)
    assert solid.sum() > 1000 and (alpha == 0).sum() > 1000  # a head, and background around it
    assert partial.sum() > 3000  # strands are sub-pixel or semi-opaque: wide partial coverage
    # the strands are thin, background shows between them: many partial pixels lie within two pixels of it
    near_bg = np.zeros_like(partial)
    clear = alpha < 0.02
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near_bg |= np.roll(clear, (dy, dx), (0, 1))
    assert (near_bg & partial).sum() > 0.25 * partial.sum()


def test_hair_is_deterministic_in_the_generator():
    bg = generated_backgrounds(0, 1, 64)[0]
    a = synthetic_hair(np.random.default_rng(3), 96, bg)
    b = synthetic_hair(np.random.default_rng(3), 96, bg)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_samples_draw_hair_only_when_asked():
    bgs = generated_backgrounds(0, 3, 96)
    plain = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3)
    off = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3, p_hair=0.0)
    for i in range(6):  # p_hair = 0 draws nothing extra: earlier runs' samples are unchanged
        assert np.array_equal(plain[i]["image"].numpy(), off[i]["image"].numpy())
    heads = MattingSamples([], bgs, 64, seed=5, p_hair=1.0, p_painted=1.0)
    for i in range(4):
        s = heads[i]
        a, t = s["alpha"][0].numpy(), s["trimap"][0].numpy()
        assert not np.array_equal(a, plain[i]["alpha"][0].numpy())
        assert np.all(a[t == 255] >= 1 - 1e-3) and np.all(a[t == 0] <= 1e-3) and (t == 128).any()


def test_hair_and_plants_cannot_exceed_every_sample():
    bgs = generated_backgrounds(0, 1, 64)
    with pytest.raises(ValueError, match="more than every sample"):
        MattingSamples([], bgs, 64, p_foliage=0.6, p_hair=0.5)
    with pytest.raises(ValueError, match="more than every sample"):
        TrainConfig(p_foliage=0.6, p_hair=0.5)
    with pytest.raises(ValueError, match="p_hair"):
        TrainConfig(p_hair=1.5)
