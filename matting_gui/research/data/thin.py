"""Procedural thin structures with exact alpha: where the networks fail today.

Each subject is drawn at ``SUPERSAMPLE``× and area-downsampled, so α is the exact coverage of
threads narrower than a pixel. Kinds (``THIN_KINDS``):

* ``mesh``: a wire net in perspective (a random homography), now and then partly hidden behind
  an opaque body, with threads of 1/4–2 px;
* ``yarn``: hanging strands that sag and cross, often dark on a dark background;
* ``sheet``: a sheet of long, nearly parallel strands falling from a solid top (straight hair);
* ``leaves``: a plant (``synthetic_foliage``) over a background of similar, leafy colours.

``thin_case`` composites one over a BSDS500 *train* photo and paints a trimap with little or no
foreground (thin subjects have no solid interior to paint).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ...core.editing.trimap import trimap_from_alpha
from ...core.imaging.compose import composite, cover_resize
from ...core.nets.synthetic import SUPERSAMPLE, photo_patch, synthetic_foliage
from .painted import painted_trimap

THIN_KINDS = ("mesh", "yarn", "sheet", "leaves")


def _down(canvas: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def mesh_alpha(rng: np.random.Generator, size: int) -> np.ndarray:
    """A net in perspective, float32 (size, size) coverage in [0, 1]."""
    big = size * SUPERSAMPLE
    canvas = np.zeros((2 * big, 2 * big), np.uint8)
    pitch = int(rng.uniform(0.025, 0.1) * big)
    thick = int(rng.integers(1, 9))
    diagonal = rng.random() < 0.4
    for v in range(0, 2 * big, pitch):
        if diagonal:
            cv2.line(canvas, (v, 0), (0, v), 255, thick, cv2.LINE_AA)
            cv2.line(canvas, (2 * big - v, 0), (2 * big, v), 255, thick, cv2.LINE_AA)
            cv2.line(canvas, (v, 2 * big), (2 * big, v), 255, thick, cv2.LINE_AA)
            cv2.line(canvas, (0, v), (2 * big - v, 2 * big), 255, thick, cv2.LINE_AA)
        else:
            cv2.line(canvas, (v, 0), (v, 2 * big), 255, thick, cv2.LINE_AA)
            cv2.line(canvas, (0, v), (2 * big, v), 255, thick, cv2.LINE_AA)
    src = np.float32([[0, 0], [2 * big, 0], [2 * big, 2 * big], [0, 2 * big]])
    jitter = rng.uniform(-0.3, 0.3, (4, 2)).astype(np.float32) * big
    dst = np.float32([[0, 0], [big, 0], [big, big], [0, big]]) + jitter
    warped = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), (big, big))
    # the net's extent: a convex patch, so background surrounds it in places
    extent = np.zeros((big, big), np.uint8)
    pts = (rng.uniform(0.0, 1.0, (int(rng.integers(4, 8)), 2)) * big).astype(np.int32)
    cv2.fillConvexPoly(extent, cv2.convexHull(pts), 255)
    if rng.random() < 0.3:
        extent[:] = 255
    alpha = _down(warped, size) * _down(extent, size)
    if rng.random() < 0.4:  # partly hidden behind (or held by) an opaque body
        body = np.zeros((big, big), np.uint8)
        cx, cy = (int(v) for v in rng.uniform(0.1, 0.9, 2) * big)
        axes = (int(rng.uniform(0.08, 0.3) * big), int(rng.uniform(0.08, 0.3) * big))
        cv2.ellipse(body, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
        alpha = np.maximum(alpha, _down(body, size))
    return alpha


def strands_alpha(rng: np.random.Generator, size: int, sheet: bool) -> np.ndarray:
    """Hanging yarn (sheet False) or a sheet of long parallel strands from a solid top (sheet True)."""
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), np.uint8)
    count = int(rng.integers(60, 260)) if sheet else int(rng.integers(4, 30))
    top = int(rng.uniform(0.05, 0.3) * big) if sheet else 0
    x_lo, x_hi = sorted(rng.uniform(0.05, 0.95, 2) * big)
    if x_hi - x_lo < 0.2 * big:
        x_lo, x_hi = 0.2 * big, 0.8 * big
    sway = rng.normal(0, 0.08) * big
    for _ in range(count):
        x0 = rng.uniform(x_lo, x_hi) if sheet else rng.uniform(0, big)
        y0 = top if sheet else rng.uniform(-0.1, 0.4) * big
        length = rng.uniform(0.5, 1.0) * big
        thick = int(rng.integers(1, 5)) if sheet else int(rng.integers(2, 12))
        bend = sway + rng.normal(0, 0.02 if sheet else 0.15) * big
        t = np.linspace(0, 1, 24)
        xs = x0 + bend * t**2 + (0 if sheet else rng.normal(0, 0.08) * big * np.sin(np.pi * t * rng.uniform(1, 3)))
        ys = y0 + length * t
        pts = np.stack([xs, ys], 1).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [pts], False, int(rng.integers(150, 256)), thick, cv2.LINE_AA)
    alpha = _down(canvas, size)
    if sheet and top > 0:  # the solid part the strands fall from (a head, a hair band)
        body = np.zeros((big, big), np.uint8)
        cv2.ellipse(body, (int((x_lo + x_hi) / 2), top), (int((x_hi - x_lo) / 2), int(top * 1.2)), 0, 0, 360, 255, -1,
                    cv2.LINE_AA)
        alpha = np.maximum(alpha, _down(body, size))
    return alpha


def thin_subject(rng: np.random.Generator, kind: str, size: int, textures: list[np.ndarray],
                 background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fg float32 (size, size, 3), alpha float32 (size, size)) of one thin subject of ``kind``;
    dark strands get colours near the background's own (dark on dark)."""
    tex = textures[int(rng.integers(len(textures)))]
    if kind == "leaves":
        return synthetic_foliage(rng, size, tex, background)
    alpha = mesh_alpha(rng, size) if kind == "mesh" else strands_alpha(rng, size, kind == "sheet")
    base = photo_patch(rng, tex, size)
    if kind == "mesh":
        grey = rng.uniform(0.15, 0.85)
        fg = np.clip(grey + 0.25 * (base - base.mean()), 0, 1)  # metal: a grey with the photo's shading
    elif rng.random() < 0.5:
        bg_mean = background.reshape(-1, 3).mean(0)
        fg = np.clip(bg_mean * rng.uniform(0.5, 1.3) + 0.1 * (base - 0.5), 0, 1)  # dark on dark, close in colour
    else:
        fg = np.clip(base * rng.uniform(0.5, 1.4, 3), 0, 1)
    return fg.astype(np.float32), alpha


def thin_plan(rng: np.random.Generator) -> tuple[Path, Path, str]:
    """A thin case's first draws from ``rng``: (background photo, texture photo, kind of ``THIN_KINDS``).
    ``thin_case`` starts with them, so a fresh generator of the same seed tells a stored case's kind.
    ``FileNotFoundError`` without background photos (the draws depend on how many there are)."""
    from .sources import background_paths

    paths = background_paths("train")
    if not paths:
        raise FileNotFoundError("no BSDS500 train backgrounds in the matting data (MATTING_DATA)")
    bg_path, tex_path = paths[int(rng.integers(len(paths)))], paths[int(rng.integers(len(paths)))]
    return bg_path, tex_path, THIN_KINDS[int(rng.integers(len(THIN_KINDS)))]


def thin_case(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One training case: (image float32 (size, size, 3), trimap uint8, alpha float32), a thin subject
    over a BSDS500 train photo with a painted trimap whose foreground is mostly left unpainted."""
    from .sources import load_backgrounds

    bg_path, tex_path, kind = thin_plan(rng)
    bg_raw, tex = load_backgrounds([bg_path, tex_path])
    background = cover_resize(bg_raw, size, size)
    if kind == "leaves" and rng.random() < 0.7:  # leaves over leafy colours
        background = np.clip(background * np.array([0.7, 1.1, 0.6], np.float32), 0, 1)
    fg, alpha = thin_subject(rng, kind, size, [tex, bg_raw], background)
    image = composite(fg, alpha, background).astype(np.float32)
    return image, thin_trimap(alpha, rng, size / 256), alpha


def thin_trimap(alpha: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """A painted-style trimap (uint8 (H, W) {0, 128, 255}) of a thin subject's α (float32 (H, W) in [0, 1]):
    the foreground mostly unpainted, but both classes painted somewhere (or no solver has anything to
    propagate, and a network no anchor); brush sizes × ``scale``."""
    for _ in range(4):
        trimap = painted_trimap(alpha, rng, scale, p_fg_seeds=0.7, p_islands=0.0)
        if (trimap == 0).any() and (trimap == 255).any():
            return trimap
    trimap = trimap_from_alpha(alpha, 0, 3)
    if not (trimap == 255).any():  # threads nowhere opaque: their densest pixels as clicked seeds
        trimap[alpha >= min(0.999, float(alpha.max()) - 1e-3)] = 255
    return trimap


def hair_over_lattice(size: int = 512, seed: int = 0, band: int = 90) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The validation case of long hair over background structure: a sheet of long strands falling over a
    lattice tower (dark girders on a sky), with a wide painted unknown band (``band`` px, as users paint
    over hair) and the head painted foreground. Returns (image float32 (size, size, 3), trimap uint8,
    alpha float32); deterministic in ``seed``. A matte that calls the girders under the band foreground
    has mistaken background structure for the subject."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    sky = np.stack([0.55 + 0.2 * yy, 0.7 + 0.15 * yy, 0.9 + 0.05 * yy], -1)
    girders = np.zeros((size * SUPERSAMPLE, size * SUPERSAMPLE), np.uint8)
    big = size * SUPERSAMPLE
    for i in range(-8, 9):  # a tapering tower: legs, rungs and cross braces
        x = int(big * (0.5 + i * 0.06))
        cv2.line(girders, (x, 0), (int(big * 0.5 + (x - big * 0.5) * 0.6), big), 255, 3 * SUPERSAMPLE)
    for y in range(0, big, big // 14):
        cv2.line(girders, (0, y), (big, y), 255, 2 * SUPERSAMPLE)
        cv2.line(girders, (0, y), (big, y + big // 14), 255, SUPERSAMPLE)
    g = _down(girders, size)[..., None]
    background = sky * (1 - g) + np.array([0.18, 0.16, 0.15], np.float32) * g
    alpha = strands_alpha(rng, size, sheet=True)
    hair = np.array([0.35, 0.22, 0.12], np.float32) * (0.8 + 0.4 * rng.random((size, size, 1)).astype(np.float32))
    image = composite(np.clip(hair, 0, 1), alpha, background.astype(np.float32)).astype(np.float32)
    trimap = np.zeros((size, size), np.uint8)
    soft = alpha > 0.01
    unknown = cv2.dilate(soft.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (band, band))) > 0
    trimap[unknown] = 128
    trimap[cv2.erode((alpha >= 0.999).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0] = 255
    return image, trimap, alpha
