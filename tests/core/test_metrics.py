import numpy as np
import pytest

from matting_gui.core.evaluation.metrics import (
    connectivity_error,
    evaluate_alpha,
    gaussian_derivative_kernels,
    gradient_error,
    mse,
    sad,
    sad_by_truth,
    unknown_mask,
)


def _case():
    gt = np.zeros((4, 4), np.float32)
    gt[:, 2:] = 1.0
    pred = gt.copy()
    pred[1, 1] = 0.5  # error 0.5
    pred[2, 2] = 0.75  # error 0.25
    pred[0, 0] = 0.9  # error 0.9 but outside the unknown region
    tri = np.full((4, 4), 128, np.uint8)
    tri[0, 0] = 0
    return pred, gt, tri


def test_sad_and_mse_hand_computed():
    pred, gt, tri = _case()
    assert sad(pred, gt, tri) == pytest.approx((0.5 + 0.25) / 1000)
    assert mse(pred, gt, tri) == pytest.approx((0.25 + 0.0625) / 15)


def test_unknown_mask_counts_any_gray():
    tri = np.array([[0, 1, 128, 254, 255]], np.uint8)
    assert unknown_mask(tri).tolist() == [[False, True, True, True, False]]


def test_perfect_prediction_scores_zero():
    _, gt, tri = _case()
    s = evaluate_alpha(gt, gt, tri)
    assert (s.sad, s.mse, s.grad, s.conn) == (0, 0, 0, 0)


def test_gradient_kernel_matches_reference_construction():
    hx, hy = gaussian_derivative_kernels(1.4)
    # reference: half-width ceil(sqrt(-2 s^2 log(sqrt(2 pi) s eps))) = 4 for s = 1.4, eps = 0.01
    assert hx.shape == (9, 9)
    assert np.sqrt((hx**2).sum()) == pytest.approx(1.0)
    assert np.allclose(hy, hx.T)
    assert np.allclose(hx, -hx[:, ::-1])  # odd in x


def test_gradient_error_of_constant_offset_is_zero():
    gt = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))
    tri = np.full((32, 32), 128, np.uint8)
    assert gradient_error(gt + 0.0, gt, tri) == pytest.approx(0.0)
    assert gradient_error(np.clip(gt * 0.5, 0, 1), gt, tri) > 0


def test_connectivity_hand_computed():
    # gt: one connected foreground pixel region; pred adds an isolated blob of 0.6
    gt = np.zeros((5, 5), np.float32)
    gt[0:2, 0:2] = 1.0
    pred = gt.copy()
    pred[4, 4] = 0.6
    tri = np.full((5, 5), 128, np.uint8)
    # At (4,4): gt=0 and pred=0.6; the pixel is never in the largest common component,
    # so its level l = 0 (first threshold 0.1 fails). d_pred = 0.6 >= 0.15 -> phi_p = 0.4;
    # d_gt = 0 -> phi_g = 1. Elsewhere pred == gt. Error = |0.4 - 1| / 1000.
    assert connectivity_error(pred, gt, tri) == pytest.approx(0.6 / 1000)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        evaluate_alpha(np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2), np.uint8))


def test_sad_by_truth_splits_the_error_into_holes_haze_and_edge():
    gt = np.zeros((40, 40), np.float32)
    gt[:, 20:] = 1.0
    gt[:, 19] = 0.5  # the edge column
    trimap = np.full((40, 40), 128, np.uint8)
    trimap[:, :5] = 0
    pred = gt.copy()
    pred[10:20, 25:30] = 0.2  # a hole in the subject: 50 px * 0.8
    pred[0:10, 8:12] = 0.5  # haze over the background: 40 px * 0.5
    pred[:, 19] = 0.25  # the edge too soft: 40 px * 0.25
    pred[:, 0:2] = 1.0  # wrong, but where the trimap says known: not counted
    split = sad_by_truth(pred, gt, trimap)
    assert split == pytest.approx({"opaque": 0.040, "clear": 0.020, "partial": 0.010})
    assert sum(split.values()) == pytest.approx(sad(pred, gt, trimap))
