"""Composite augmentations that narrow the gap between composites and real photos.

After the data generators of GCA-Matting and GFM's RSSN (read, not copied): two foregrounds merged
into one subject, affine warps with a random interpolation, and hue rotation of the foreground.
Each function is a pure function of its ``rng`` draws and inputs; all arrays are float32.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Interpolations a warp picks from: real photos reach us resampled by many different filters.
INTERPOLATIONS = (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)


def merge_foregrounds(fg1: np.ndarray, alpha1: np.ndarray, fg2: np.ndarray, alpha2: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """One subject from two, the first in front: α = 1 − (1 − α1)(1 − α2).

    fg1, fg2: (H, W, 3); alpha1, alpha2: (H, W); all float32 in [0, 1]. Returns (fg, α) such that
    compositing them over any background equals compositing subject 2 and then subject 1 over it:
    fg·α = fg1·α1 + fg2·α2·(1 − α1). Where α = 0 the foreground is fg1 (any colour composites the same).
    """
    alpha = 1.0 - (1.0 - alpha1) * (1.0 - alpha2)
    premult = fg1 * alpha1[..., None] + fg2 * (alpha2 * (1.0 - alpha1))[..., None]
    covered = alpha[..., None] > 1e-6
    fg = np.where(covered, premult / np.maximum(alpha, 1e-6)[..., None], fg1)
    return np.clip(fg, 0, 1).astype(np.float32), alpha.astype(np.float32)


def random_affine(rng: np.random.Generator, fg: np.ndarray, alpha: np.ndarray, max_rotate: float = 30.0,
                  scale: tuple[float, float] = (0.8, 1.25), max_shear: float = 10.0,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """fg (H, W, 3) and alpha (H, W), float32 in [0, 1], warped together about the centre.

    Rotation up to ±``max_rotate`` degrees, isotropic scale in ``scale``, horizontal shear up to
    ±``max_shear`` degrees, one interpolation from ``INTERPOLATIONS`` for both. Outside the source
    both are mirrored (a crop's border may cut through the subject: a constant α = 0 there would
    add a straight edge no photo has). Same shapes out, clipped to [0, 1].
    """
    h, w = alpha.shape
    angle = rng.uniform(-max_rotate, max_rotate)
    s = rng.uniform(*scale)
    shear = np.tan(np.radians(rng.uniform(-max_shear, max_shear)))
    interp = int(INTERPOLATIONS[rng.integers(len(INTERPOLATIONS))])
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, s)
    shear_m = np.array([[1.0, shear, -shear * h / 2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    m = (np.vstack([rot, [0.0, 0.0, 1.0]]) @ shear_m)[:2]
    out_fg = cv2.warpAffine(fg, m, (w, h), flags=interp, borderMode=cv2.BORDER_REFLECT_101)
    out_a = cv2.warpAffine(alpha, m, (w, h), flags=interp, borderMode=cv2.BORDER_REFLECT_101)
    return np.clip(out_fg, 0, 1).astype(np.float32), np.clip(out_a, 0, 1).astype(np.float32)


def hue_shift(rng: np.random.Generator, img: np.ndarray, max_degrees: float) -> np.ndarray:
    """(H, W, 3) RGB float32 in [0, 1] with its hue rotated by up to ±``max_degrees``; grays stay gray."""
    hsv = cv2.cvtColor(np.ascontiguousarray(img, dtype=np.float32), cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-max_degrees, max_degrees)) % 360.0
    return np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0, 1).astype(np.float32)
