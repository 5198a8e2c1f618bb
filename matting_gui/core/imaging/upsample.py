"""Edge-aware upsampling of a low-resolution alpha to full resolution.

Choice: the fast guided filter (He & Sun, 2015). A local linear model
α ≈ a·I + b (I: gray guide) is fitted in box windows at the low resolution where
the network ran; the coefficient maps a, b are bilinearly upsampled and applied
to the full-resolution guide. Edges then follow the full-resolution photo (hair
stays sharp) instead of being smeared by a plain resize, at the cost of a few
box filters (O(N), no iteration). Implemented with OpenCV box filters since the
opencv-python wheels do not ship ``ximgproc``.
"""

from __future__ import annotations

import cv2
import numpy as np


def _gray(image: np.ndarray) -> np.ndarray:
    # copy=False: a float32 photo is used as it is (a copy is 1.3 GB at 110 MP)
    image = image.astype(np.float32, copy=False)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def guided_upsample(
    alpha_low: np.ndarray, image_low: np.ndarray, image_full: np.ndarray, radius: int = 2, eps: float = 1e-4
) -> np.ndarray:
    """Upsample alpha_low (h, w) to image_full's (H, W) guided by the photo.

    alpha_low: float32 (h, w) in [0, 1]; image_low: (h, w, 3) float32 the network
    saw; image_full: (H, W, 3) float32. radius in low-res pixels, eps the
    regularisation (smaller = follows the guide's edges more closely).
    Returns float32 (H, W) in [0, 1].
    """
    gi = _gray(image_low)
    ksize = (2 * radius + 1, 2 * radius + 1)
    box = lambda x: cv2.boxFilter(x, cv2.CV_32F, ksize, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mean_i = box(gi)
    mean_p = box(alpha_low.astype(np.float32))
    cov_ip = box(gi * alpha_low) - mean_i * mean_p
    var_i = box(gi * gi) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    a, b = box(a), box(b)
    h, w = image_full.shape[:2]
    # in place, one full-size map at a time: the peak stays a few single-channel maps at 100 MP
    out = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    out *= _gray(image_full)
    out += cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0, out=out)
