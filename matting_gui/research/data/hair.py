"""Procedural heads of hair with exact alpha: issue 14's hardest case, long fine hair over textured
backgrounds, of which the real training subjects hold little.

``synthetic_hair(rng, size, texture)`` returns (fg, alpha): fg float32 (S, S, 3) in [0, 1], alpha
float32 (S, S) in [0, 1]. A head (an opaque blob) carries thousands of strands rooted in it, most
often over an opaque volume of shadowed hair. The strands flow along a smooth direction field —
straight and falling, wavy, or frizzy and standing out as on a troll — grouped in clumps that
converge toward their tips; each is 0.25–1 px wide, nearly opaque, with its own brightness, the tips
thinner and some see-through, plus a few stray flyaways. Strands are drawn at 4× in a few opacity
layers and composited exactly ("over", premultiplied), so alpha is the true coverage and fg the true
colour where strands cross.
"""

from __future__ import annotations

import cv2
import numpy as np

from matting_gui.core.nets.synthetic import SUPERSAMPLE, photo_patch

LAYERS = 6  # opacity layers: strands within one overlap by max, layers by exact "over"
FAINT = 2  # of them, the see-through ones
# hair base colours (sRGB, [0, 1]): black, dark brown, brown, auburn, ginger, dark blond, blond, grey
HAIR_COLOURS = np.array([
    [0.05, 0.04, 0.04], [0.18, 0.11, 0.07], [0.35, 0.22, 0.13], [0.45, 0.18, 0.10],
    [0.70, 0.38, 0.18], [0.55, 0.43, 0.28], [0.85, 0.72, 0.50], [0.65, 0.65, 0.66],
], np.float32)
STYLES = ("falling", "wavy", "frizzy")


def _angle_field(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth random angle perturbation in radians, float32 (size, size), about ±1."""
    cells = int(rng.integers(2, 6))
    grid = rng.normal(0, 1, (cells, cells)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


def _guide(rng: np.random.Generator, root: np.ndarray, heading: float, length: float, style: str,
           field: np.ndarray, bend: float, steps: int) -> np.ndarray:
    """A clump's centre line: float64 (steps + 1, 2) points (x, y) in output pixels from root."""
    size = field.shape[0]
    wave_amp = rng.uniform(0.3, 0.9) if style == "wavy" else 0.0
    wave_k, phase = rng.uniform(2.0, 5.0) * np.pi, rng.uniform(0, 2 * np.pi)
    curl = rng.normal(0, 0.6 if style == "frizzy" else 0.15)
    pts = [root.copy()]
    p = root.copy()
    for i in range(steps):
        t = i / steps
        x, y = (int(np.clip(v, 0, size - 1)) for v in p)
        ang = heading + bend * field[y, x] + curl * t + wave_amp * np.sin(phase + wave_k * t)
        if style == "falling":  # hair hangs: the heading turns toward gravity (down) with length
            ang = ang + (np.pi / 2 - ang) * min(1.0, 1.5 * t) * 0.6
        p = p + length / steps * np.array([np.cos(ang), np.sin(ang)])
        pts.append(p.copy())
    return np.array(pts)


def synthetic_hair(
    rng: np.random.Generator, size: int, texture: np.ndarray, texture2: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One head of hair. texture(s): float32 (h, w, 3) photos in [0, 1] (skin and hair tones).

    Returns fg float32 (size, size, 3) in [0, 1] and alpha float32 (size, size) in [0, 1].
    """
    big = size * SUPERSAMPLE
    style = STYLES[int(rng.integers(len(STYLES)))]
    centre = np.array([size * rng.uniform(0.3, 0.7), size * rng.uniform(0.45, 0.8)])
    radii = (size * rng.uniform(0.12, 0.25), size * rng.uniform(0.15, 0.3))
    head = np.zeros((big, big), np.uint8)
    cv2.ellipse(head, tuple(int(v * SUPERSAMPLE) for v in centre), tuple(int(r * SUPERSAMPLE) for r in radii),
                float(rng.uniform(-20, 20)), 0, 360, 255, -1, cv2.LINE_AA)
    head_a = cv2.resize(head, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    skin = photo_patch(rng, texture, size) * rng.uniform(0.6, 1.3, 3).astype(np.float32)

    base = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))] * rng.uniform(0.9, 1.1, 3).astype(np.float32)
    if rng.random() < 0.15:  # dyed (or a toy's) hair: any colour
        base = rng.uniform(0.05, 0.9, 3).astype(np.float32)
    tone = cv2.cvtColor(photo_patch(rng, texture2 if texture2 is not None else texture, size), cv2.COLOR_RGB2GRAY)
    tone = cv2.GaussianBlur(tone, (0, 0), 2.0)  # low-contrast variation along the hair, as in lit hair
    hair_rgb = base * (1 + rng.uniform(0.2, 0.8) * (tone - tone.mean()))[..., None]

    field = _angle_field(rng, size)
    bend = rng.uniform(0.2, 0.9)
    length_scale = size * rng.uniform(0.3, 0.9) * (0.6 if style == "frizzy" else 1.0)
    layers = [np.zeros((big, big), np.uint8) for _ in range(LAYERS)]
    # a strand is nearly opaque (its coverage, not its opacity, makes it faint); only the first FAINT
    # layers, which hold tips and flyaways, are see-through, so a dense hair mass is opaque as in photos
    opacity = np.concatenate([rng.uniform(0.3, 0.7, FAINT), rng.uniform(0.85, 1.0, LAYERS - FAINT)])
    brightness = rng.uniform(0.6, 1.5, LAYERS)
    steps = 24
    # the hair's own volume under the surface strands: opaque, in shadow, as in a real head of hair,
    # where the gaps between strands show more hair (dark) rather than the background; frizzy or thin
    # hair has none
    volume = np.zeros((big, big), np.uint8)
    has_volume = rng.random() < 0.7
    shadow = rng.uniform(0.25, 0.6)
    for _ in range(int(rng.integers(25, 90))):  # clumps
        a = rng.uniform(-np.pi, 0) if rng.random() < 0.85 else rng.uniform(0, np.pi)  # mostly the crown
        edge = centre + np.array([radii[0] * np.cos(a), radii[1] * np.sin(a)])
        root = centre + (edge - centre) * rng.uniform(0.3, 1.0)
        heading = a + rng.normal(0, 0.4) if style == "frizzy" else a * 0.5 + rng.normal(0, 0.3)
        guide = _guide(rng, root, heading, length_scale * rng.uniform(0.5, 1.2), style, field, bend, steps)
        normal = np.stack([-np.gradient(guide[:, 1]), np.gradient(guide[:, 0])], 1)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-6
        width, pinch = size * rng.uniform(0.01, 0.05), rng.uniform(0.3, 1.0)
        t = np.linspace(0, 1, steps + 1)[:, None]
        if has_volume:  # the clump's root part, about as wide as its strands spread
            inner = (guide[: max(2, int((steps + 1) * rng.uniform(0.3, 0.8)))] * SUPERSAMPLE).astype(np.int32)
            cv2.polylines(volume, [inner.reshape(-1, 1, 2)], False, 255, max(1, int(2 * width * SUPERSAMPLE)),
                          cv2.LINE_AA)
        for _ in range(int(rng.integers(15, 70))):  # strands: the clump's line, offset, pinched to the tip
            offset = rng.normal(0, width) * (1 - pinch * t) + np.cumsum(rng.normal(0, 0.15, (steps + 1, 1)), 0)
            pts = (guide + normal * offset)[: max(3, int((steps + 1) * rng.uniform(0.5, 1.0)))]
            pts_big = (pts * SUPERSAMPLE).astype(np.int32)
            k = int(rng.integers(FAINT, LAYERS))
            thick = int(rng.integers(1, 5))
            cut = int(len(pts_big) * rng.uniform(0.6, 0.9))
            cv2.polylines(layers[k], [pts_big[: cut + 1].reshape(-1, 1, 2)], False, 255, thick, cv2.LINE_AA)
            # the tip: thinner, and in a see-through layer when the body's layer is one of the first two opaque ones
            cv2.polylines(layers[max(0, k - 2)], [pts_big[cut:].reshape(-1, 1, 2)], False, 255,
                          max(1, thick - 2), cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 12))):  # flyaways: long, lone, faint
        a = rng.uniform(-np.pi, 0)
        root = centre + np.array([radii[0] * np.cos(a), radii[1] * np.sin(a)])
        pts = _guide(rng, root, a + rng.normal(0, 0.3), length_scale * rng.uniform(0.4, 1.0), "wavy", field, bend, steps)
        cv2.polylines(layers[0], [(pts * SUPERSAMPLE).astype(np.int32).reshape(-1, 1, 2)], False, 255,
                      int(rng.integers(1, 3)), cv2.LINE_AA)

    # composite bottom to top, premultiplied: the head, the volume, then the strand layers in random order
    alpha = head_a.copy()
    premult = skin * head_a[..., None]
    vol = (cv2.resize(volume, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0)[..., None]
    premult = hair_rgb * shadow * vol + premult * (1 - vol)
    alpha = vol[..., 0] + alpha * (1 - vol[..., 0])
    for k in rng.permutation(LAYERS):
        cover = cv2.resize(layers[k], (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        a_k = (opacity[k] * cover)[..., None]
        premult = hair_rgb * brightness[k] * a_k + premult * (1 - a_k)
        alpha = a_k[..., 0] + alpha * (1 - a_k[..., 0])
    fg = premult / np.maximum(alpha, 1e-4)[..., None]
    fg = np.where(alpha[..., None] > 1e-4, fg, hair_rgb)
    return np.clip(fg, 0, 1).astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32)
