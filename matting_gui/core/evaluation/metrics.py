"""The four standard matting metrics, over the trimap's unknown region.

All functions take pred and gt as float (H, W) alpha in [0, 1] and a uint8 trimap
(unknown = any value strictly between 0 and 255). Conventions follow the
Composition-1k evaluation (Xu et al., DIM) and its MATLAB code, with these
deviations, stated once here:

* SAD and Gradient/Connectivity are divided by 1000, as the reference does;
  MSE is the mean over unknown pixels (not divided by 1000).
* Gradient uses the same normalised first-derivative-of-Gaussian filters
  (σ = 1.4, support from ε = 1e-2) but convolves with OpenCV's reflect-101 border
  instead of MATLAB's zero-padded ``imfilter``; values differ only near the image
  border.
* Connectivity labels 4-connected components (as ``bwconncomp(..., 4)``) with
  thresholds 0, 0.1, ..., 1 and θ = 0.15; thresholds come from ``linspace`` so
  no floating-point drift adds an eleventh step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np


def unknown_mask(trimap: np.ndarray) -> np.ndarray:
    """bool (H, W): pixels strictly between background (0) and foreground (255)."""
    return (trimap > 0) & (trimap < 255)


def sad(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Sum of absolute differences over the unknown region, / 1000."""
    m = unknown_mask(trimap)
    return float(np.abs(pred[m].astype(np.float64) - gt[m]).sum() / 1000.0)


OPAQUE, CLEAR = 0.95, 0.05  # true alpha at or above / at or below which a pixel counts as subject / background


def sad_by_truth(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
    """SAD (/1000) over the unknown region, split by where the true alpha says the error lies.

    pred, gt: float (H, W) in [0, 1]; trimap: uint8 (H, W). Returns {'opaque': error where
    gt >= 0.95 (holes in the subject), 'clear': where gt <= 0.05 (haze over the background),
    'partial': the rest (the edge itself)}; the three add up to ``sad``.
    """
    m = unknown_mask(trimap)
    err = np.abs(pred[m].astype(np.float64) - gt[m])
    truth = gt[m]
    opaque, clear = truth >= OPAQUE, truth <= CLEAR
    return {"opaque": float(err[opaque].sum() / 1000.0), "clear": float(err[clear].sum() / 1000.0),
            "partial": float(err[~opaque & ~clear].sum() / 1000.0)}


def mse(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Mean squared error over the unknown region (0 when nothing is unknown)."""
    m = unknown_mask(trimap)
    n = int(m.sum())
    if n == 0:
        return 0.0
    d = pred[m].astype(np.float64) - gt[m]
    return float((d * d).sum() / n)


def _gauss(x: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-(x**2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))


def _dgauss(x: np.ndarray, sigma: float) -> np.ndarray:
    return -x * _gauss(x, sigma) / sigma**2


def gaussian_derivative_kernels(sigma: float = 1.4) -> tuple[np.ndarray, np.ndarray]:
    """The reference ``gaussgradient`` filters (hx, hy), each normalised to unit L2 norm."""
    eps = 1e-2
    half = math.ceil(math.sqrt(-2 * sigma**2 * math.log(math.sqrt(2 * math.pi) * sigma * eps)))
    r = np.arange(-half, half + 1, dtype=np.float64)
    hx = _gauss(r, sigma)[:, None] * _dgauss(r, sigma)[None, :]  # rows: y, cols: x
    hx /= np.sqrt((np.abs(hx) ** 2).sum())
    return hx, hx.T.copy()


def _grad_magnitude(img: np.ndarray, sigma: float) -> np.ndarray:
    hx, hy = gaussian_derivative_kernels(sigma)
    img = img.astype(np.float64)
    # filter2D computes correlation; the sign flip does not change the magnitude.
    gx = cv2.filter2D(img, cv2.CV_64F, hx, borderType=cv2.BORDER_REFLECT_101)
    gy = cv2.filter2D(img, cv2.CV_64F, hy, borderType=cv2.BORDER_REFLECT_101)
    return np.sqrt(gx**2 + gy**2)


def gradient_error(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, sigma: float = 1.4) -> float:
    """Σ over unknown of (|∇pred| − |∇gt|)², / 1000."""
    m = unknown_mask(trimap)
    d = _grad_magnitude(pred, sigma) - _grad_magnitude(gt, sigma)
    return float((d[m] ** 2).sum() / 1000.0)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == biggest


def connectivity_error(
    pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, step: float = 0.1, theta: float = 0.15
) -> float:
    """Connectivity error (Rhemann et al. 2009) over the unknown region, / 1000."""
    pred = pred.astype(np.float64)
    gt = gt.astype(np.float64)
    thresholds = np.linspace(0.0, 1.0, int(round(1.0 / step)) + 1)
    level = np.full(pred.shape, -1.0)
    for i in range(1, len(thresholds)):
        omega = _largest_component((pred >= thresholds[i]) & (gt >= thresholds[i]))
        newly = (level == -1) & ~omega
        level[newly] = thresholds[i - 1]
    level[level == -1] = 1.0
    dp = pred - level
    dg = gt - level
    phi_p = 1 - dp * (dp >= theta)
    phi_g = 1 - dg * (dg >= theta)
    m = unknown_mask(trimap)
    return float(np.abs(phi_p - phi_g)[m].sum() / 1000.0)


@dataclass
class MattingScores:
    """The four metrics for one image (or their mean over a set)."""

    sad: float
    mse: float
    grad: float
    conn: float

    def as_dict(self) -> dict[str, float]:
        """{'sad', 'mse', 'grad', 'conn'} → value."""
        return asdict(self)


def evaluate_alpha(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> MattingScores:
    """All four metrics. pred, gt: float (H, W) in [0, 1]; trimap: uint8 (H, W)."""
    if pred.shape != gt.shape or gt.shape != trimap.shape:
        raise ValueError(f"shape mismatch: pred {pred.shape}, gt {gt.shape}, trimap {trimap.shape}")
    return MattingScores(
        sad(pred, gt, trimap),
        mse(pred, gt, trimap),
        gradient_error(pred, gt, trimap),
        connectivity_error(pred, gt, trimap),
    )


def mean_scores(scores: list[MattingScores]) -> MattingScores:
    """Mean of each metric over a list (NaN for an empty list)."""
    if not scores:
        return MattingScores(math.nan, math.nan, math.nan, math.nan)
    return MattingScores(*(float(np.mean([getattr(s, k) for s in scores])) for k in ("sad", "mse", "grad", "conn")))
