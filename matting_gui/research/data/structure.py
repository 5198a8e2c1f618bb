"""Solid structure drawn into a training background: what a wide unknown band must not call foreground.

Issue 46: under a ~90 px band painted over long hair, the live student calls a lattice tower behind the
hair foreground. Its training backgrounds were photos and blurred photos; fences, girders, bars and
branches crossing the band behind a soft subject were rare. ``add_structure`` paints one such structure
over a background (the structure *is* background: α is untouched), so that the network has to tell a thin
dark line of the background from a strand of the subject by colour and context, not by shape alone —
the same lines appear as foreground in ``data.thin``'s wire nets.

Kinds (``STRUCTURE_KINDS``), each drawn at ``SUPERSAMPLE``× and area-downsampled:

* ``fence``: two families of parallel wires at random angles (chain-link, grids, window grilles);
* ``truss``: legs, rungs and diagonal braces (pylons, cranes, scaffolding) at a random angle;
* ``bars``: a few thick straight bars (window frames, poles, railings);
* ``branches``: a branching tree of tapering twigs.

The validation case ``thin.hair_over_lattice`` is drawn by other code (a tapering tower on a sky) and never
trained on; it is the same family of scene, so it checks this lever, not generalisation to all structure.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...core.nets.synthetic import SUPERSAMPLE

STRUCTURE_KINDS = ("fence", "truss", "bars", "branches")


def _lines(canvas: np.ndarray, rng: np.random.Generator, angle: float, pitch: float, thick: int) -> None:
    """Parallel lines across ``canvas`` (uint8, drawn in place) at ``angle`` radians, ``pitch`` px apart."""
    big = canvas.shape[0]
    d = np.array([np.cos(angle), np.sin(angle)])  # along the lines
    n = np.array([-d[1], d[0]])  # across them
    c = np.array([big / 2, big / 2])
    offset = rng.uniform(0, pitch)
    for t in np.arange(-big + offset, big, pitch):
        p = c + n * t
        a, b = p - d * 1.5 * big, p + d * 1.5 * big
        cv2.line(canvas, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, thick, cv2.LINE_AA)


def _fence(rng: np.random.Generator, big: int) -> np.ndarray:
    canvas = np.zeros((big, big), np.uint8)
    angle = rng.uniform(0, np.pi)
    pitch = rng.uniform(0.03, 0.15) * big
    thick = int(rng.integers(1, 4 * SUPERSAMPLE))
    _lines(canvas, rng, angle, pitch, thick)
    if rng.random() < 0.85:  # a second family: a grid or a diamond mesh
        _lines(canvas, rng, angle + rng.uniform(np.pi / 4, 3 * np.pi / 4), pitch * rng.uniform(0.7, 1.4), thick)
    return canvas


def _truss(rng: np.random.Generator, big: int) -> np.ndarray:
    canvas = np.zeros((big, big), np.uint8)
    angle = np.pi / 2 + rng.normal(0, 0.4)  # mostly upright
    leg_pitch = rng.uniform(0.1, 0.35) * big
    rung_pitch = rng.uniform(0.05, 0.15) * big
    legs = int(rng.integers(2, 6 * SUPERSAMPLE))
    _lines(canvas, rng, angle, leg_pitch, legs)
    _lines(canvas, rng, angle + np.pi / 2, rung_pitch, max(1, legs // 2))
    if rng.random() < 0.8:  # cross braces
        _lines(canvas, rng, angle + np.arctan2(leg_pitch, rung_pitch), rung_pitch, max(1, legs // 3))
    return canvas


def _bars(rng: np.random.Generator, big: int) -> np.ndarray:
    canvas = np.zeros((big, big), np.uint8)
    for _ in range(int(rng.integers(1, 7))):
        angle = rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.15)
        d = np.array([np.cos(angle), np.sin(angle)])
        p = rng.uniform(0, big, 2)
        a, b = p - d * 2 * big, p + d * 2 * big
        thick = int(rng.uniform(3, 25) * SUPERSAMPLE)
        cv2.line(canvas, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, thick, cv2.LINE_AA)
    return canvas


def _branch(canvas: np.ndarray, rng: np.random.Generator, p: np.ndarray, angle: float, length: float,
            thick: float, depth: int) -> None:
    steps = 6
    for _ in range(steps):
        angle += rng.normal(0, 0.25)
        q = p + length / steps * np.array([np.cos(angle), np.sin(angle)])
        cv2.line(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), 255, max(1, int(thick)), cv2.LINE_AA)
        p = q
        if depth > 0 and rng.random() < 0.35:
            _branch(canvas, rng, p, angle + rng.choice([-1, 1]) * rng.uniform(0.3, 1.1), length * 0.6,
                    thick * 0.6, depth - 1)
        thick = max(1.0, thick * 0.85)


def _branches(rng: np.random.Generator, big: int) -> np.ndarray:
    canvas = np.zeros((big, big), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        side = int(rng.integers(4))
        t = rng.uniform(0, big)
        start = np.array([[t, 0], [t, big], [0, t], [big, t]][side], float)
        angle = [np.pi / 2, -np.pi / 2, 0.0, np.pi][side] + rng.normal(0, 0.5)
        _branch(canvas, rng, start, angle, rng.uniform(0.6, 1.2) * big, rng.uniform(2, 12) * SUPERSAMPLE, 3)
    return canvas


_DRAW = {"fence": _fence, "truss": _truss, "bars": _bars, "branches": _branches}


def structure_coverage(rng: np.random.Generator, size: int, kind: str | None = None) -> np.ndarray:
    """Coverage float32 (size, size) in [0, 1] of one structure of ``kind`` (random when None), over the
    whole square or over a convex part of it."""
    kind = kind or STRUCTURE_KINDS[int(rng.integers(len(STRUCTURE_KINDS)))]
    big = size * SUPERSAMPLE
    canvas = _DRAW[kind](rng, big)
    if rng.random() < 0.4:  # only part of the background: the structure ends somewhere behind the subject
        extent = np.zeros((big, big), np.uint8)
        pts = (rng.uniform(-0.2, 1.2, (int(rng.integers(3, 7)), 2)) * big).astype(np.int32)
        cv2.fillConvexPoly(extent, cv2.convexHull(pts), 255)
        part = np.minimum(canvas, extent)
        if part.any():  # an extent that misses the structure would leave the background bare
            canvas = part
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def add_structure(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    """``background`` (float32 (S, S, 3) in [0, 1]) with one structure painted over it: dark (girders,
    twigs), light (painted metal) or a colour of the background itself, shaded; same shape and dtype."""
    s = background.shape[0]
    cover = structure_coverage(rng, s)[..., None]
    pick = rng.random()
    if pick < 0.5:
        colour = rng.uniform(0.03, 0.3) * rng.uniform(0.8, 1.2, 3)
    elif pick < 0.7:
        colour = rng.uniform(0.55, 0.95) * rng.uniform(0.9, 1.1, 3)
    else:
        y, x = rng.integers(0, s, 2)
        colour = background[y, x] * rng.uniform(0.5, 1.3)
    shade = cv2.resize(rng.uniform(0.75, 1.25, (4, 4)).astype(np.float32), (s, s), interpolation=cv2.INTER_CUBIC)
    paint = np.clip(colour[None, None, :] * shade[..., None], 0, 1)
    return (background * (1 - cover) + paint * cover).astype(np.float32)
