"""The colour-line solvers whose mattes the fusion network weighs: closed-form and KNN matting.

Closed-form matting (Levin et al., local colour lines) and KNN matting (Chen et al., nonlocal:
pixels of similar colour and position share α) fail in different places, and both differently
from a network: Cho, Tai & Kweon (ECCV 2016) fed both to a CNN that learned where to trust which.
Both come from pymatting. Each solve runs on the unknown region's bounding box (plus ``MARGIN``
known pixels that anchor it), at most ``MAX_SOLVER_PIXELS`` pixels of it: a larger box is solved
at reduced size and brought back with a bilinear resize (known pixels are then forced again).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

#: The solvers a fusion network may be trained on, in its input-channel order.
SOLVERS = ("closed_form", "knn")
#: Known pixels kept around the unknown region's bounding box.
MARGIN = 8
#: A bounding box above this many pixels is solved at reduced size (the training photos, 800 px on
#: the long side, never are; a 1 MP photo with a wide unknown region is).
MAX_SOLVER_PIXELS = 600_000
#: pymatting's thresholds on trimap / 255: foreground ≥ 0.9, background ≤ 0.1.
FG_LEVEL, BG_LEVEL = 230, 25


class SolveAborted(Exception):
    """``abort`` answered True during a solve: the caller no longer wants its result."""


def unknown_box(trimap: np.ndarray, margin: int = MARGIN) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the unknown pixels' bounding box grown by ``margin``, clipped to the
    trimap uint8 (H, W); None when nothing is unknown."""
    unknown = (trimap > BG_LEVEL) & (trimap < FG_LEVEL)
    rows, cols = np.flatnonzero(unknown.any(1)), np.flatnonzero(unknown.any(0))
    if len(rows) == 0:
        return None
    h, w = trimap.shape
    return (max(0, rows[0] - margin), min(h, rows[-1] + margin + 1),
            max(0, cols[0] - margin), min(w, cols[-1] + margin + 1))


def _solve(method: str, image: np.ndarray, trimap: np.ndarray, abort: Callable[[], bool] | None) -> np.ndarray:
    """One pymatting solve on float64 image (h, w, 3) and uint8 trimap (h, w) → float32 (h, w) in [0, 1]."""
    from pymatting import cf_laplacian, cg, jacobi, knn_laplacian, make_linear_system

    from .refine import quiet_ichol, run_abortable

    def check(*_) -> None:
        if abort is not None and abort():
            raise SolveAborted(f"{method} superseded")

    def run(step: Callable[[], object]):
        return step() if abort is None else run_abortable(abort, step)

    tri = trimap.astype(np.float64) / 255.0
    check()
    if method == "closed_form":
        lap = run(lambda: cf_laplacian(image, is_known=(tri <= 0.1) | (tri >= 0.9)))
    elif method == "knn":
        lap = run(lambda: knn_laplacian(image))
    else:
        raise ValueError(f"unknown solver {method!r}; choose one of {SOLVERS}")
    check()
    a, b = make_linear_system(lap, tri)  # known pixels pinned by pymatting's penalty (λ = 100)
    precondition = quiet_ichol if method == "closed_form" else jacobi
    m = run(lambda: precondition(a))
    check()
    x = cg(a, b, M=m, maxiter=2000, callback=check)
    return np.clip(x, 0, 1).reshape(trimap.shape).astype(np.float32)


def solver_matte(image: np.ndarray, trimap: np.ndarray, method: str, max_pixels: int = MAX_SOLVER_PIXELS,
                 abort: Callable[[], bool] | None = None) -> np.ndarray:
    """The ``method`` matte ('closed_form' or 'knn') of image float (H, W, 3) RGB in [0, 1] and trimap
    uint8 (H, W) {0, 128, 255}: float32 (H, W) in [0, 1], 1 on known foreground and 0 on known
    background. A trimap with no foreground (background) gives 0 (1) on the unknown pixels, the
    minimiser of either energy with nothing to pin the other side. abort: asked between the
    solve's steps and at each conjugate-gradient iteration; True raises ``SolveAborted``.
    """
    if method not in SOLVERS:
        raise ValueError(f"unknown solver {method!r}; choose one of {SOLVERS}")
    if image.shape[:2] != trimap.shape:
        raise ValueError(f"trimap size {trimap.shape[::-1]} does not match image {image.shape[1::-1]}")
    out = np.where(trimap >= FG_LEVEL, 1.0, 0.0).astype(np.float32)
    box = unknown_box(trimap)
    has_fg, has_bg = bool((trimap >= FG_LEVEL).any()), bool((trimap <= BG_LEVEL).any())
    if box is None:
        return out
    if not (has_fg and has_bg):
        unknown = (trimap > BG_LEVEL) & (trimap < FG_LEVEL)
        out[unknown] = float(has_fg)
        return out
    y0, y1, x0, x1 = box
    img, tri = image[y0:y1, x0:x1], trimap[y0:y1, x0:x1]
    crop_known = (tri <= BG_LEVEL) | (tri >= FG_LEVEL)
    if not crop_known.any() or min(tri.shape) < 3:  # nothing anchors the box: take the whole photo
        y0, y1, x0, x1 = 0, trimap.shape[0], 0, trimap.shape[1]
        img, tri = image, trimap
    h, w = tri.shape
    scale = min(1.0, math.sqrt(max_pixels / (h * w)))
    if scale < 1.0:
        sw, sh = max(3, round(w * scale)), max(3, round(h * scale))
        small = _solve(method, cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float64),
                       cv2.resize(tri, (sw, sh), interpolation=cv2.INTER_NEAREST), abort)
        alpha = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        alpha = _solve(method, img.astype(np.float64), tri, abort)
    alpha = np.where(tri >= FG_LEVEL, 1.0, np.where(tri <= BG_LEVEL, 0.0, alpha)).astype(np.float32)
    out[y0:y1, x0:x1] = alpha
    return out


def solver_mattes(image: np.ndarray, trimap: np.ndarray, methods: tuple[str, ...] = SOLVERS,
                  max_pixels: int = MAX_SOLVER_PIXELS, abort: Callable[[], bool] | None = None) -> np.ndarray:
    """``solver_matte`` of each method, stacked: float32 (len(methods), H, W) in [0, 1]."""
    return np.stack([solver_matte(image, trimap, m, max_pixels, abort) for m in methods])
