import numpy as np
import pytest

from matting_gui.core.editing.trimap import (
    TrimapError,
    band_trimap,
    encode_inputs,
    trimap_advice,
    trimap_from_alpha,
    validate_trimap,
)


def test_validate_normalises_and_checks():
    tri = np.array([[0, 5, 128, 250, 255]], np.uint8)
    assert validate_trimap(tri, (1, 5, 3)).tolist() == [[0, 128, 128, 128, 255]]
    with pytest.raises(TrimapError, match="does not match"):
        validate_trimap(tri, (2, 5))
    with pytest.raises(TrimapError, match="no unknown"):
        validate_trimap(np.array([[0, 255]], np.uint8), (1, 2))
    with pytest.raises(TrimapError, match="no known"):
        validate_trimap(np.full((2, 2), 128, np.uint8), (2, 2))
    with pytest.raises(TrimapError, match="single-channel"):
        validate_trimap(np.zeros((2, 2, 3), np.uint8), (2, 2))


def test_advice_only_when_no_foreground_is_painted():
    tri = np.zeros((6, 6), np.uint8)
    tri[1:5, 1:5] = 128
    assert "no foreground is painted" in trimap_advice(tri)
    tri[2:4, 2:4] = 255
    assert trimap_advice(tri) is None
    assert trimap_advice(np.zeros((3, 3), np.uint8)) is None  # nothing unknown: trimap_problem's case


def test_encode_inputs_layout():
    img = np.full((8, 10, 3), 0.5, np.float32)
    tri = np.zeros((8, 10), np.uint8)
    tri[:, 5:] = 128
    tri[:, 8:] = 255
    x = encode_inputs(img, tri)
    assert x.shape == (8, 8, 10) and x.dtype == np.float32
    assert np.allclose(x[:3], 0.0)
    assert np.array_equal(x[3] + x[4] + x[5], np.ones((8, 10)))
    assert x[6, 0, 8] == pytest.approx(1.0) and x[6, 0, 0] < x[6, 0, 7] < 1.0  # closer to fg → larger
    assert x[7, 0, 0] == pytest.approx(1.0) and x[7, 0, 9] < x[7, 0, 5]


def test_trimap_from_alpha_band_grows_with_iterations():
    alpha = np.zeros((40, 40), np.float32)
    alpha[10:30, 10:30] = 1.0
    narrow = trimap_from_alpha(alpha, 1, 1)
    wide = trimap_from_alpha(alpha, 5, 5)
    assert (wide == 128).sum() > (narrow == 128).sum() > 0
    assert wide[20, 20] == 255 and wide[0, 0] == 0


def test_band_trimap_radius():
    mask = np.zeros((50, 50), bool)
    mask[10:40, 10:40] = True
    tri = band_trimap(mask, 3)
    assert tri[25, 25] == 255 and tri[0, 0] == 0
    assert tri[25, 10] == 128 and tri[25, 8] == 128 and tri[25, 5] == 0

