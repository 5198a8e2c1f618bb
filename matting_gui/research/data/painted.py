"""Trimaps that look hand-painted, for training, and the wide validation trimaps.

A person with an unknown brush does not trace a band of constant width around the edge: the
band is wide and uneven, whole soft regions (a hair mass with the background showing between
strands) are painted over, strokes wander into the background, and sometimes a large area is
left unknown. ``painted_trimap`` imitates that from the true alpha, so a network cannot learn
that the edge lies mid-band. Every pixel it marks known is exactly known (α = 0 or 1 there).

``widen_trimap`` makes the validation's wide trimaps from an official (human-made) trimap by a
fixed rule, independent of the training generator, so validation does not reward fitting it.
"""

from __future__ import annotations

import cv2
import numpy as np

from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN, trimap_from_alpha

EPS = 1e-3


def _smooth_field(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Low-frequency noise in [0, 1], float32 (h, w)."""
    cells = int(rng.integers(2, 7))
    grid = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _disk(radius: float) -> np.ndarray:
    r = max(1, int(round(radius)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _strokes(rng: np.random.Generator, edge: np.ndarray, k: float) -> np.ndarray:
    """1–4 blobby brush strokes starting on ``edge`` pixels and wandering off: uint8 (h, w) mask."""
    h, w = edge.shape
    out = np.zeros((h, w), np.uint8)
    pts = np.argwhere(edge)
    if len(pts) == 0:
        return out
    for _ in range(int(rng.integers(1, 5))):
        y, x = pts[rng.integers(len(pts))].astype(np.float64)
        radius = max(1, int(rng.uniform(3, 16) * k))
        heading = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(2, 8))):
            heading += rng.normal(0, 0.8)
            length = rng.uniform(5, 25) * k
            ny, nx = y + length * np.sin(heading), x + length * np.cos(heading)
            cv2.line(out, (int(x), int(y)), (int(nx), int(ny)), 1, thickness=2 * radius + 1)
            y, x = float(np.clip(ny, 0, h - 1)), float(np.clip(nx, 0, w - 1))
    return out


def painted_trimap(alpha: np.ndarray, rng: np.random.Generator, scale: float = 1.0,
                   p_fg_seeds: float = 0.0, p_islands: float = 0.0) -> np.ndarray:
    """A hand-painted-looking trimap for ``alpha``: float32 (H, W) in [0, 1] → uint8 {0, 128, 255}.

    scale: pixels per pixel of a 256-px training crop (bands reach ~48·scale px). p_fg_seeds:
    probability that the foreground is left unpainted but for 0–2 small seeds (a whole tree crown
    or hair mass marked unknown, only a little of it marked foreground), so that being far from
    known foreground does not mean background. p_islands: probability of 1–5 small unknown islands
    inside the painted foreground, as people leave where the subject might have a hole (official
    trimaps have them), so that an island with texture like hair between strands is not read as a
    hole. Known pixels always carry their true class; the
    result keeps some known pixels when the alpha has any.
    """
    h, w = alpha.shape
    k = max(scale, 1e-3)
    hard_fg = alpha >= 1 - EPS
    hard_bg = alpha <= EPS
    soft = ~(hard_fg | hard_bg)
    # the edge: soft pixels plus the 1-px seam of hard fg/bg boundaries
    edge = soft | (cv2.morphologyEx(hard_fg.astype(np.uint8), cv2.MORPH_GRADIENT, _disk(1)) > 0)
    if not edge.any():
        return trimap_from_alpha(alpha, 1, 1)
    # 1. an uneven band: its radius varies smoothly between 0.3 and 1.7 times a log-uniform base
    base = float(np.exp(rng.uniform(np.log(2.0), np.log(48.0)))) * k
    radius = base * (0.3 + 1.4 * _smooth_field(rng, h, w))
    dist = cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, 3)
    unknown = dist <= radius
    # 2. the soft mass painted over as a whole (a hair mass with its gaps), half the time
    if rng.random() < 0.5 and soft.any():
        closed = cv2.morphologyEx(soft.astype(np.uint8), cv2.MORPH_CLOSE, _disk(rng.uniform(6, 32) * k))
        unknown |= closed > 0
    # 3. brush strokes reaching into the background or foreground
    if rng.random() < 0.6:
        unknown |= _strokes(rng, edge, k) > 0
    # 4. now and then a large area left unknown
    if rng.random() < 0.1:
        cy, cx = rng.integers(h), rng.integers(w)
        axes = (int(rng.uniform(0.15, 0.45) * w), int(rng.uniform(0.15, 0.45) * h))
        blob = np.zeros((h, w), np.uint8)
        cv2.ellipse(blob, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        unknown |= blob > 0
    # 5. the foreground left unpainted but for a few seeds (drawn only when asked: older runs'
    # sample streams stay as they were)
    if p_fg_seeds and rng.random() < p_fg_seeds and hard_fg.any():
        seeds = np.zeros((h, w), np.uint8)
        pts = np.argwhere(hard_fg)
        for _ in range(int(rng.integers(0, 3))):
            y, x = pts[rng.integers(len(pts))]
            cv2.circle(seeds, (int(x), int(y)), max(2, int(rng.uniform(4, 24) * k)), 1, -1)
        unknown |= hard_fg & (seeds == 0)
    # 6. small unknown islands inside the foreground (drawn only when asked, as 5)
    if p_islands and rng.random() < p_islands:
        inside = np.argwhere(hard_fg & ~unknown)
        islands = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 6)) if len(inside) else 0):
            y, x = inside[rng.integers(len(inside))]
            axes = tuple(max(2, int(rng.uniform(3, 16) * k)) for _ in range(2))
            cv2.ellipse(islands, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        unknown |= islands > 0
    unknown |= soft  # a soft pixel is never known
    tri = np.full((h, w), UNKNOWN, np.uint8)
    tri[hard_bg & ~unknown] = BACKGROUND
    tri[hard_fg & ~unknown] = FOREGROUND
    if not (tri != UNKNOWN).any():  # nothing known left: fall back to a plain band
        return trimap_from_alpha(alpha, max(1, round(4 * k)), max(1, round(4 * k)))
    return tri


def widen_trimap(trimap: np.ndarray, grow: int, close: int) -> np.ndarray:
    """A wide, painted-style trimap from a (human-made) one: uint8 (H, W) → uint8 {0, 128, 255}.

    The unknown region is dilated by ``grow`` px, and background enclosed by a closing with a
    ``close``-px disk becomes unknown too (the gaps of a hair mass, as a painter's brush covers
    them); the foreground's interior stays known. Known pixels keep their class, so the result
    is exact wherever the original was.
    """
    unknown = ((trimap > 0) & (trimap < 255)).astype(np.uint8)
    unknown = cv2.dilate(unknown, _disk(grow))
    # closing fills the background between strands; the foreground's interior stays known
    closed = cv2.morphologyEx(unknown, cv2.MORPH_CLOSE, _disk(close)) > 0
    unknown = (unknown > 0) | (closed & (trimap == 0))
    out = np.full(trimap.shape, UNKNOWN, np.uint8)
    out[(trimap == 0) & ~unknown] = BACKGROUND
    out[(trimap == 255) & ~unknown] = FOREGROUND
    return out
