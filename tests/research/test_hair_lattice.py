"""The validation case of long hair over background structure (a lattice tower behind a sheet of strands,
a 90-px painted unknown band): the case itself, and the shipped student's settled matte on it."""

from pathlib import Path

import numpy as np

from matting_gui.core.inference.predictor import Predictor
from matting_gui.research.data.thin import hair_over_lattice

REPO = Path(__file__).resolve().parents[2]


def _structure_under_band(image, trimap, alpha):
    """Background pixels under the unknown band, and those of them on a girder (dark)."""
    under = (trimap == 128) & (alpha < 0.01)
    return under, under & (image.mean(-1) < 0.35)


def test_the_case_puts_background_structure_under_a_wide_band():
    image, trimap, alpha = hair_over_lattice()
    assert image.shape == (512, 512, 3) and trimap.dtype == np.uint8 and alpha.dtype == np.float32
    under, girders = _structure_under_band(image, trimap, alpha)
    assert (trimap == 255).any() and (trimap == 0).any()
    assert (trimap == 128).mean() > 0.5 and girders.sum() > 5000
    again = hair_over_lattice()
    assert all(np.array_equal(a, b) for a, b in zip((image, trimap, alpha), again))


def test_the_settled_student_matte_keeps_the_tower_background():
    """The shipped student's matte once refined (the editor's settled matte with Refine edges): at most 6 %
    of the background under the band above α 0.2 (the live matte alone: 11 %, docs/fusion.md)."""
    image, trimap, alpha = hair_over_lattice()
    under, girders = _structure_under_band(image, trimap, alpha)
    result = Predictor(REPO / "models" / "student.safetensors", device="cpu").predict(image, trimap, refine=True)
    assert (result.alpha[under] > 0.2).mean() <= 0.06
    assert (result.alpha[girders] > 0.5).mean() <= 0.10
