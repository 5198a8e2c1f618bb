"""Select subject: GrabCut from a box gives a trimap whose band follows the subject's edge."""

import numpy as np
import pytest

from matting_gui.core.editing.select_subject import band_width, select_subject, selected_share
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


def _gray_scene(h=240, w=320):
    """A gray photo whose subject differs from the background in texture, not in level: a noisy disc
    over a smooth ramp that holds every gray the disc does; and its mask."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w]
    disc = np.hypot(yy - h / 2, xx - w / 2) < h * 0.3
    g = (0.15 + 0.7 * xx / w).astype(np.float32)
    g[disc] = np.clip(0.5 + rng.normal(0, 0.2, disc.sum()), 0, 1)
    return np.repeat(g[..., None], 3, axis=2), disc


def test_a_gray_photo_is_cut_on_texture_not_colour():
    """A gray copy of a photo used to select almost nothing (0.9 % where its colour original gave 47 %)."""
    img, disc = _gray_scene()
    tri = select_subject(img, (50, 20, 220, 200), band=4)
    found = tri >= UNKNOWN
    iou = (found & disc).sum() / (found | disc).sum()
    assert iou > 0.6  # on the gray levels alone: 0.08, and 0.0 % of the box selected
    assert selected_share(tri, (50, 20, 220, 200)) > 0.3


def test_a_tiny_photo_keeps_a_core_of_foreground():
    """On a 50×50 photo the 4 px band swallowed the subject: Select subject gave only an unknown blob."""
    yy, xx = np.mgrid[0:50, 0:50]
    subject = (np.abs(xx - 25) < 5) & (yy > 8) & (yy < 44)  # a figure 9 px wide
    img = np.where(subject[..., None], (0.9, 0.8, 0.2), (0.1, 0.3, 0.6)).astype(np.float32)
    tri = select_subject(img)
    assert (tri == FOREGROUND).sum() >= 0.2 * subject.sum() and (tri[subject] != BACKGROUND).all()


def test_selected_share():
    tri = np.zeros((10, 10), np.uint8)
    tri[2:4, 2:4] = FOREGROUND
    assert selected_share(tri, None) == 0.04 and selected_share(tri, (2, 2, 2, 2)) == 1.0
    assert selected_share(tri, (20, 20, 5, 5)) == 0.0  # a box off the photo selects nothing
