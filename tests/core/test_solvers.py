"""The colour-line solvers that the fusion network weighs: closed-form and KNN on the unknown box."""

import numpy as np
import pytest

from matting_gui.core.inference.refine import closed_form
from matting_gui.core.inference.solvers import SOLVERS, SolveAborted, solver_matte, solver_mattes, unknown_box
from tests.conftest import make_photo, make_trimap


@pytest.fixture
def scene():
    """A two-colour photo whose true α is a soft disc, and a trimap with a ring of unknown around it."""
    h, w = 60, 80
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = np.clip((18 - np.hypot(yy - 30, xx - 40)) / 4 + 0.5, 0, 1).astype(np.float32)
    fg, bg = np.array([0.9, 0.3, 0.2], np.float32), np.array([0.1, 0.4, 0.8], np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.full((h, w), 128, np.uint8)
    trimap[alpha >= 1] = 255
    trimap[np.hypot(yy - 30, xx - 40) > 24] = 0
    trimap[alpha >= 1] = 255
    trimap[np.hypot(yy - 30, xx - 40) < 12] = 255
    return image, trimap, alpha


@pytest.mark.parametrize("method", SOLVERS)
def test_solvers_recover_a_two_colour_edge(scene, method):
    image, trimap, alpha = scene
    pred = solver_matte(image, trimap, method)
    assert pred.dtype == np.float32 and pred.shape == alpha.shape
    assert pred.min() >= 0 and pred.max() <= 1
    assert np.array_equal(pred[trimap == 255], np.ones((trimap == 255).sum(), np.float32))
    assert np.array_equal(pred[trimap == 0], np.zeros((trimap == 0).sum(), np.float32))
    unknown = trimap == 128
    assert np.abs(pred - alpha)[unknown].mean() < 0.05


def test_closed_form_on_the_box_equals_the_whole_photo_solve(scene):
    """The box keeps MARGIN known pixels, so the solve matches pymatting's on the whole photo."""
    image, trimap, _ = scene
    assert np.abs(solver_matte(image, trimap, "closed_form") - closed_form(image, trimap)).max() < 2e-3


def test_reduced_solve_keeps_size_and_known_pixels(scene):
    image, trimap, alpha = scene
    pred = solver_matte(image, trimap, "knn", max_pixels=900)
    assert pred.shape == alpha.shape
    assert (pred[trimap == 255] == 1).all() and (pred[trimap == 0] == 0).all()
    assert np.abs(pred - alpha)[trimap == 128].mean() < 0.15


def test_trimaps_without_one_class_need_no_solve():
    image, trimap = make_photo(), make_trimap()
    no_fg = np.where(trimap == 255, 128, trimap).astype(np.uint8)
    assert (solver_matte(image, no_fg, "knn") == 0).all()
    no_bg = np.where(trimap == 0, 128, trimap).astype(np.uint8)
    assert (solver_matte(image, no_bg, "closed_form") == 1).all()
    known = np.where(trimap == 128, 255, trimap).astype(np.uint8)
    assert unknown_box(known) is None and np.array_equal(solver_matte(image, known, "knn"), known / 255.0)


def test_stacked_mattes_and_bad_arguments(scene):
    image, trimap, _ = scene
    both = solver_mattes(image, trimap)
    assert both.shape == (2, *trimap.shape)
    with pytest.raises(ValueError, match="unknown solver"):
        solver_matte(image, trimap, "magic")
    with pytest.raises(ValueError, match="does not match"):
        solver_matte(image[:10], trimap, "knn")


def test_abort_stops_a_solve(scene):
    image, trimap, _ = scene
    with pytest.raises(SolveAborted):
        solver_matte(image, trimap, "closed_form", abort=lambda: True)
