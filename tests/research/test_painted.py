"""Hand-painted-style trimaps (training) and the wide validation trimaps."""

import cv2
import numpy as np
import pytest

from matting_gui.core.editing.trimap import trimap_from_alpha
from matting_gui.core.nets.synthetic import generated_backgrounds, synthetic_foreground
from matting_gui.research.data.painted import painted_trimap, widen_trimap
from matting_gui.research.data.samples import MattingSamples


def _hairy_alpha(seed: int, size: int = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    _, alpha = synthetic_foreground(rng, size, generated_backgrounds(seed, 1, size)[0])
    return alpha


@pytest.mark.parametrize("seed", range(6))
def test_known_pixels_are_exact_and_soft_pixels_unknown(seed):
    alpha = _hairy_alpha(seed)
    tri = painted_trimap(alpha, np.random.default_rng(seed))
    assert set(np.unique(tri)) <= {0, 128, 255}
    assert np.all(alpha[tri == 255] >= 1 - 1e-3) and np.all(alpha[tri == 0] <= 1e-3)
    assert np.all(tri[(alpha > 1e-3) & (alpha < 1 - 1e-3)] == 128)
    assert (tri != 128).any()


def test_deterministic_and_wider_and_more_varied_than_the_band():
    alphas = [_hairy_alpha(s) for s in range(12)]
    painted = [painted_trimap(a, np.random.default_rng(s)) for s, a in enumerate(alphas)]
    assert all(np.array_equal(p, painted_trimap(a, np.random.default_rng(s)))
               for s, (a, p) in enumerate(zip(alphas, painted)))
    band = [trimap_from_alpha(a, 10, 10) for a in alphas]  # the band's mid-range width
    share = lambda tris: [float((t == 128).mean()) for t in tris]  # noqa: E731
    assert np.mean(share(painted)) > np.mean(share(band))
    assert np.std(share(painted)) > np.std(share(band))


def test_foreground_seeds_leave_most_of_the_foreground_unknown_far_from_anything_known():
    """p_fg_seeds=1: at most two small seeds of the opaque foreground stay known, so unknown pixels
    far from known foreground are often foreground; p_fg_seeds=0 draws nothing extra (the sample
    stream of earlier runs is unchanged)."""
    yy, xx = np.mgrid[0:256, 0:256]
    alpha = np.clip((90 - np.hypot(yy - 128, xx - 128)) / 4, 0, 1).astype(np.float32)  # a 180-px disk
    opaque = alpha >= 1 - 1e-3
    plain = [painted_trimap(alpha, np.random.default_rng(s)) for s in range(10)]
    seeded = [painted_trimap(alpha, np.random.default_rng(s), p_fg_seeds=1.0) for s in range(10)]
    assert all(np.array_equal(p, painted_trimap(alpha, np.random.default_rng(s), p_fg_seeds=0.0))
               for s, p in enumerate(plain))
    known_fg = lambda tris: np.mean([(t == 255).sum() / opaque.sum() for t in tris])  # noqa: E731
    assert known_fg(seeded) < 0.25 * known_fg(plain)
    for t in seeded:
        assert np.all(alpha[t == 255] >= 1 - 1e-3) and np.all(alpha[t == 0] <= 1e-3)  # still exact
        assert (t == 0).any()  # the background is still painted


def test_islands_leave_unknown_holes_inside_the_painted_foreground():
    """p_islands=1: unknown islands enclosed by known foreground; p_islands=0 draws nothing extra."""
    yy, xx = np.mgrid[0:256, 0:256]
    alpha = np.clip((90 - np.hypot(yy - 128, xx - 128)) / 4, 0, 1).astype(np.float32)
    plain = [painted_trimap(alpha, np.random.default_rng(s)) for s in range(10)]
    assert all(np.array_equal(p, painted_trimap(alpha, np.random.default_rng(s), p_islands=0.0))
               for s, p in enumerate(plain))
    enclosed = 0
    for s in range(10):
        t = painted_trimap(alpha, np.random.default_rng(s), p_islands=1.0)
        assert np.all(alpha[t == 255] >= 1 - 1e-3) and np.all(alpha[t == 0] <= 1e-3)  # still exact
        # unknown components that touch no background: islands inside the foreground
        count, labels = cv2.connectedComponents((t == 128).astype(np.uint8))
        touches_bg = set(np.unique(labels[cv2.dilate((t == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0]))
        enclosed += sum(1 for c in range(1, count) if c not in touches_bg)
    assert enclosed >= 8


def test_widen_keeps_known_classes_and_grows_the_unknown():
    yy, xx = np.mgrid[0:200, 0:200]
    r = np.hypot(yy - 100, xx - 100)
    tri = np.where(r < 50, 255, 0).astype(np.uint8)
    tri[(r >= 48) & (r < 52)] = 128  # a thin ring
    tri[(np.abs(yy - 100) < 2) & (xx > 52) & (xx < 80)] = 128  # a thin unknown spoke, 2 px from the ring
    wide = widen_trimap(tri, 8, 15)
    assert np.all(wide[tri == 128] == 128)  # unknown only grows
    assert np.all(tri[wide == 0] == 0) and np.all(tri[wide == 255] == 255)
    assert (wide == 128).sum() > 3 * (tri == 128).sum()
    assert (wide == 255).any() and (wide == 0).any()


def test_samples_use_painted_trimaps_only_when_asked():
    bgs = generated_backgrounds(0, 3, 96)
    plain = MattingSamples([], bgs, 64, seed=5)
    again = MattingSamples([], bgs, 64, seed=5, p_painted=0.0, realism=False)
    for i in range(4):  # the defaults give the samples runs made before these options existed
        assert np.array_equal(plain[i]["trimap"].numpy(), again[i]["trimap"].numpy())
        assert np.array_equal(plain[i]["image"].numpy(), again[i]["image"].numpy())
    painted = MattingSamples([], bgs, 64, seed=5, p_painted=1.0, realism=True)
    differs = 0
    for i in range(6):
        s = painted[i]
        a, t = s["alpha"][0].numpy(), s["trimap"][0].numpy()
        assert np.all(a[t == 255] >= 1 - 1e-3) and np.all(a[t == 0] <= 1e-3)
        assert s["unknown"].sum() == float((t == 128).sum())
        differs += not np.array_equal(t, plain[i]["trimap"][0].numpy())
    assert differs >= 4


def test_samples_draw_foliage_only_when_asked():
    bgs = generated_backgrounds(0, 3, 96)
    plain = MattingSamples([], bgs, 64, seed=5)
    off = MattingSamples([], bgs, 64, seed=5, p_foliage=0.0)
    for i in range(4):  # p_foliage = 0 draws nothing extra: earlier runs' samples are unchanged
        assert np.array_equal(plain[i]["image"].numpy(), off[i]["image"].numpy())
    plants = MattingSamples([], bgs, 64, seed=5, p_foliage=1.0)
    for i in range(4):
        s = plants[i]
        a, t = s["alpha"][0].numpy(), s["trimap"][0].numpy()
        assert not np.array_equal(a, plain[i]["alpha"][0].numpy())
        assert np.all(a[t == 255] >= 1 - 1e-3) and np.all(a[t == 0] <= 1e-3) and (t == 128).any()
