"""Select subject: GrabCut from a box gives a trimap whose band follows the subject's edge."""

import numpy as np
import pytest

from matting_gui.core.editing.select_subject import band_width, select_subject
from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN


def _scene(h=300, w=400):
    """A textured red disc (the subject) on a textured blue-grey background; and its mask."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:h, 0:w]
    disc = np.hypot(yy - h / 2, xx - w / 2) < h * 0.3
    img = np.empty((h, w, 3), np.float32)
    img[:] = (0.25, 0.35, 0.55)
    img[disc] = (0.85, 0.2, 0.15)
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)
    return np.clip(img, 0, 1), disc


@pytest.mark.parametrize("max_pixels", [10_000_000, 20_000])  # at full size, and reduced then brought back
def test_a_box_around_the_subject_gives_a_trimap_along_its_edge(max_pixels):
    img, disc = _scene()
    tri = select_subject(img, (90, 40, 220, 220), band=6, max_pixels=max_pixels)
    assert tri.shape == disc.shape and set(np.unique(tri)) <= {BACKGROUND, UNKNOWN, FOREGROUND}
    inner = np.zeros_like(disc)
    inner[110:190, 160:240] = True
    assert (tri[inner] == FOREGROUND).all() and (tri[:20] == BACKGROUND).all()
    wrong = ((tri == FOREGROUND) & ~disc).sum() + ((tri == BACKGROUND) & disc).sum()
    assert wrong < 0.01 * disc.sum()  # the band holds the edge: almost nothing known is wrong
    assert tri[150, 200 + 90] == UNKNOWN  # the disc's right edge (radius 90) lies in the band


def test_the_whole_photo_and_bad_boxes():
    img, disc = _scene()
    tri = select_subject(img)  # no box: the whole photo less a margin
    assert tri[150, 200] == FOREGROUND and tri[0, 0] == BACKGROUND
    with pytest.raises(ValueError, match="too small"):
        select_subject(img, (10, 10, 3, 3))
    assert select_subject(img, seed=0).tolist() == select_subject(img, seed=0).tolist()  # repeatable
    assert band_width(4000, 6000) == 72 and band_width(10, 10) == 4
