"""Procedural foregrounds with exact alpha, so training data never runs out.

``synthetic_foreground(rng, size, texture)`` returns (fg, alpha): fg float32
(S, S, 3) in [0, 1], alpha float32 (S, S) in [0, 1]. Each subject mixes a body
(soft or hard blob), and some of: thin anti-aliased strands (hair, fur, grass),
holes and meshes, semi-transparent regions, motion or defocus blur at edges.
``synthetic_foliage`` draws plants: opaque leaves on branches, background in the gaps.
Colours come from a photo patch (``texture``), so foregrounds look natural.
"""

from __future__ import annotations

import cv2
import numpy as np

SUPERSAMPLE = 4  # strands and hard edges are drawn at 4x, then area-downsampled: exact coverage alpha


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1], float32 (size, size)."""
    grid = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _blob(rng: np.random.Generator, size: int) -> np.ndarray:
    """A body: random polygon or ellipse (hard, anti-aliased) or a soft noise blob."""
    kind = rng.integers(3)
    if kind == 2:
        noise = _smooth_noise(rng, size, int(rng.integers(3, 7)))
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        field = noise - 1.6 * (xx**2 + yy**2)
        thr = np.quantile(field, rng.uniform(0.45, 0.75))
        soft = rng.uniform(0.005, 0.08)  # ramp width: hard to very soft edges
        return np.clip((field - thr) / soft + 0.5, 0, 1).astype(np.float32)
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), np.uint8)
    c = big / 2
    if kind == 0:
        n = int(rng.integers(5, 14))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.15, 0.42, n) * big
        pts = np.stack([c + rad * np.cos(ang), c + rad * np.sin(ang)], 1).astype(np.int32)
        cv2.fillPoly(canvas, [pts], 255, cv2.LINE_8)
    else:
        axes = (int(rng.uniform(0.15, 0.4) * big), int(rng.uniform(0.15, 0.4) * big))
        cv2.ellipse(canvas, (int(c), int(c)), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _strands(rng: np.random.Generator, size: int, body: np.ndarray) -> np.ndarray:
    """Thin curved strands growing out of the body's edge (hair/fur/grass), coverage alpha."""
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), np.uint8)
    edge = np.argwhere((body > 0.3) & (body < 0.9))
    if len(edge) == 0:
        edge = np.argwhere(body > 0.5)
    if len(edge) == 0:
        return np.zeros((size, size), np.float32)
    count = int(rng.integers(20, 200))
    thickness = int(rng.integers(1, 4))  # 1/4 .. 3/4 px at the output size: sub-pixel hair
    centre = np.array([size / 2, size / 2])
    base_dir = rng.uniform(0, 2 * np.pi)
    outward = rng.random() < 0.7
    for _ in range(count):
        y, x = edge[rng.integers(len(edge))]
        if outward:
            d = np.array([y, x], np.float64) - centre
            ang = np.arctan2(d[0], d[1]) + rng.normal(0, 0.5)
        else:
            ang = base_dir + rng.normal(0, 0.3)
        length = rng.uniform(0.05, 0.3) * size
        steps = 12
        curl = rng.normal(0, 0.15)
        pts = []
        py, px = float(y), float(x)
        for _ in range(steps):
            pts.append((px * SUPERSAMPLE, py * SUPERSAMPLE))
            ang += curl + rng.normal(0, 0.05)
            py += np.sin(ang) * length / steps
            px += np.cos(ang) * length / steps
        pts_arr = np.array(pts, np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [pts_arr], False, int(rng.integers(120, 256)), thickness, cv2.LINE_AA)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _mesh(rng: np.random.Generator, size: int) -> np.ndarray:
    """A mesh/net pattern (1 on the threads), coverage alpha."""
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), np.uint8)
    pitch = int(rng.uniform(0.03, 0.12) * big)
    thick = int(rng.integers(2, 8))
    for v in range(0, big, pitch):
        cv2.line(canvas, (v, 0), (v, big), 255, thick)
        cv2.line(canvas, (0, v), (big, v), 255, thick)
    rot = cv2.getRotationMatrix2D((big / 2, big / 2), float(rng.uniform(0, 90)), 1.0)
    canvas = cv2.warpAffine(canvas, rot, (big, big))
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _holes(rng: np.random.Generator, size: int) -> np.ndarray:
    """1 where holes are punched (anti-aliased discs), float32 (size, size)."""
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), np.uint8)
    for _ in range(int(rng.integers(2, 12))):
        r = int(rng.uniform(0.01, 0.06) * big)
        cx, cy = (int(v) for v in rng.uniform(0.2, 0.8, 2) * big)
        cv2.circle(canvas, (cx, cy), r, 255, -1)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _motion_kernel(rng: np.random.Generator) -> np.ndarray:
    length = int(rng.integers(5, 17))
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return k / max(k.sum(), 1e-6)


def photo_patch(rng: np.random.Generator, texture: np.ndarray, size: int) -> np.ndarray:
    """A random square of 30–100 % of a photo's shorter side, resized to float32 (size, size, 3).

    texture: float32 (h, w, 3) in [0, 1]; the result stays in [0, 1].
    """
    h, w = texture.shape[:2]
    side = int(min(h, w) * rng.uniform(0.3, 1.0))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    return cv2.resize(texture[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_LINEAR)


def _colour_layer(rng: np.random.Generator, size: int, texture: np.ndarray) -> np.ndarray:
    """A natural-looking colour layer: a photo patch, tinted, resized to (size, size, 3)."""
    patch = photo_patch(rng, texture, size)
    tint = rng.uniform(0.6, 1.4, 3).astype(np.float32)
    return np.clip(patch * tint, 0, 1)


def synthetic_foreground(
    rng: np.random.Generator, size: int, texture: np.ndarray, texture2: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic subject. texture(s): float32 (h, w, 3) photos in [0, 1] for colours.

    Returns fg float32 (size, size, 3) in [0, 1] and alpha float32 (size, size) in [0, 1].
    """
    body = _blob(rng, size)
    fg = _colour_layer(rng, size, texture)
    alpha = body
    if rng.random() < 0.6:
        strands = _strands(rng, size, body)
        hair_colour = _colour_layer(rng, size, texture2 if texture2 is not None else texture)
        hair_colour = cv2.GaussianBlur(hair_colour, (0, 0), 3)
        w = np.clip(strands - alpha, 0, 1)[..., None]
        fg = fg * (1 - w) + hair_colour * w
        alpha = np.maximum(alpha, strands)
    if rng.random() < 0.25:
        alpha = alpha * (1 - _holes(rng, size))
    if rng.random() < 0.2:
        alpha = alpha * _mesh(rng, size)  # the body becomes a net: thin threads, many holes
    if rng.random() < 0.25:
        # a semi-transparent region (veil, glass): scale alpha inside a soft region
        region = cv2.GaussianBlur(_blob(rng, size), (0, 0), size * 0.02)
        alpha = alpha * (1 - region * rng.uniform(0.2, 0.8))
    r = rng.random()
    if r < 0.15:
        k = _motion_kernel(rng)
        alpha = cv2.filter2D(alpha, -1, k)
        fg = cv2.filter2D(fg, -1, k)
    elif r < 0.3:
        sigma = rng.uniform(0.7, 3.0)
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    return np.clip(fg, 0, 1).astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32)


def _leaf(rng: np.random.Generator, cx: float, cy: float, length: float) -> np.ndarray:
    """One leaf outline: a pointed ellipse at a random angle, int32 (18, 2) polygon (x, y)."""
    ang = rng.uniform(0, 2 * np.pi)
    t = np.linspace(0, np.pi, 9)
    width = length * rng.uniform(0.25, 0.6)
    outline = np.concatenate([np.stack([length * (t / np.pi - 0.5), width / 2 * np.sin(t)], 1),
                              np.stack([length * (0.5 - t / np.pi), -width / 2 * np.sin(t)], 1)])
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    return (outline @ rot.T + (cx, cy)).astype(np.int32)


def synthetic_foliage(
    rng: np.random.Generator, size: int, texture: np.ndarray, texture2: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A plant or tree crown: up to hundreds of opaque leaves on thin branches, with background
    showing through the gaps (as in alphamatting GT26). Each leaf has its own brightness, so the
    foreground is as textured as a cluttered background and colour alone cannot separate them; a
    wide trimap leaves the whole crown unknown.

    texture(s): float32 (h, w, 3) photos in [0, 1] for colours. Returns fg float32 (size, size, 3)
    in [0, 1] and alpha float32 (size, size) in [0, 1] (exact coverage of leaves and branches).
    """
    big = size * SUPERSAMPLE
    cover = np.zeros((big, big), np.uint8)
    shade = np.zeros((big, big), np.uint8)  # per-leaf brightness: leaves in light and in shadow
    base = np.array([big * rng.uniform(0.35, 0.65), big * rng.uniform(0.85, 1.05)])
    tips = []
    for _ in range(int(rng.integers(6, 18))):  # branches from the base up into the crown, forking once
        end = base + np.array([rng.normal(0, 0.25), -rng.uniform(0.45, 0.85)]) * big
        mid = (base + end) / 2 + rng.normal(0, 0.05, 2) * big
        fork = mid + rng.normal(0, 0.2, 2) * big
        thick = max(1, int(rng.uniform(0.002, 0.012) * big))
        for a, b in ((base, mid), (mid, end), (mid, fork)):
            pa, pb = tuple(int(v) for v in a), tuple(int(v) for v in b)
            cv2.line(cover, pa, pb, 255, thick, cv2.LINE_AA)
            cv2.line(shade, pa, pb, int(rng.integers(40, 120)), thick)
        tips += [mid, end, fork]
    tips_arr = np.array(tips)
    leaf_len = rng.uniform(0.03, 0.09) * big
    for _ in range(int(rng.integers(100, 600))):
        cx, cy = tips_arr[rng.integers(len(tips_arr))] + rng.normal(0, rng.uniform(0.04, 0.12), 2) * big
        outline = _leaf(rng, cx, cy, leaf_len * rng.uniform(0.6, 1.4))
        cv2.fillPoly(cover, [outline], 255, cv2.LINE_AA)
        cv2.fillPoly(shade, [outline], int(rng.integers(70, 256)))  # later leaves hide earlier ones
    alpha = cv2.resize(cover, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    light = cv2.resize(shade, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    light = light / np.maximum(alpha, 1e-3)  # un-premultiply: the leaf's own brightness at its edges
    colour = _colour_layer(rng, size, texture2 if texture2 is not None and rng.random() < 0.5 else texture)
    tint = np.array([rng.uniform(0.3, 0.8), rng.uniform(0.7, 1.2), rng.uniform(0.2, 0.6)], np.float32)
    if rng.random() < 0.3:  # autumn or dried leaves: browns and yellows rather than greens
        tint = tint[[1, 0, 2]]
    tint = 1 + rng.uniform(0.2, 0.9) * (tint - 1)  # from the photo's own colours to plainly green
    fg = colour * tint * np.clip(light, 0, 1)[..., None] * rng.uniform(0.8, 1.5)
    return np.clip(fg, 0, 1).astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32)


def generated_backgrounds(seed: int, count: int = 12, side: int = 160) -> list[np.ndarray]:
    """Smooth random colour fields float32 (side, side, 3) in [0, 1], standing in for background
    photos where no data folder exists (tests, int8 calibration, figures). Deterministic in seed."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        grid = rng.random((6, 6, 3)).astype(np.float32)
        img = cv2.resize(grid, (side, side), interpolation=cv2.INTER_CUBIC)
        img += rng.normal(0, 0.05, img.shape).astype(np.float32)
        out.append(np.clip(img, 0, 1))
    return out
