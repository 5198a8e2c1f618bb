"""What the editor shows, as numpy: view modes rendered into a uint8 RGB buffer. Qt-free.

Rendering works on a rectangle so that painting a stroke on a 24 MP photo only
recomputes the pixels it touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compose import checkerboard
from .trimap import BACKGROUND, FOREGROUND

VIEW_MODES = ("trimap", "alpha", "composite", "photo")
BACKGROUND_KINDS = ("checkerboard", "black", "white", "colour", "image", "blurred")


@dataclass
class ViewStyle:
    """Colours are RGB in [0, 1]; opacity in [0, 1]."""

    fg_colour: tuple[float, float, float] = (0.1, 0.85, 0.2)
    bg_colour: tuple[float, float, float] = (0.9, 0.1, 0.1)
    unknown_colour: tuple[float, float, float] = (0.2, 0.4, 1.0)
    opacity: float = 0.45
    background: str = "checkerboard"
    background_colour: tuple[float, float, float] = (0.0, 0.6, 0.2)


def render(
    out: np.ndarray,
    mode: str,
    image: np.ndarray,
    trimap: np.ndarray,
    alpha: np.ndarray | None,
    foreground: np.ndarray | None,
    background: np.ndarray | None,
    style: ViewStyle,
    rect: tuple[int, int, int, int] | None = None,
) -> None:
    """Render ``mode`` into ``out`` (uint8 (H, W, 3), written in place) over rect (x, y, w, h).

    image: float32 (H, W, 3); trimap uint8 (H, W); alpha float32 (H, W) or None
    (no matte yet: the alpha view shows the trimap, the composite view the photo);
    foreground: decontaminated colours or None (use the photo's); background:
    (H, W, 3) float32 for kinds image/blurred/checkerboard, else None.
    """
    h, w = trimap.shape
    x, y, rw, rh = rect if rect is not None else (0, 0, w, h)
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + rw), min(h, y + rh)
    if x0 >= x1 or y0 >= y1:
        return
    sl = (slice(y0, y1), slice(x0, x1))
    img = image[sl]
    if mode == "photo":
        res = img
    elif mode == "trimap":
        tri = trimap[sl]
        a = np.float32(style.opacity)
        res = img.copy()
        for value, colour in ((FOREGROUND, style.fg_colour), (BACKGROUND, style.bg_colour), (None, style.unknown_colour)):
            m = (tri == value) if value is not None else ((tri != FOREGROUND) & (tri != BACKGROUND))
            if m.any():
                res[m] = res[m] * (1 - a) + np.asarray(colour, np.float32) * a
    elif mode == "alpha":
        src = alpha[sl] if alpha is not None else trimap[sl].astype(np.float32) / 255.0
        res = np.repeat(src[..., None], 3, axis=2)
    elif mode == "composite":
        if alpha is None:
            res = img
        else:
            a = alpha[sl][..., None]
            fg = foreground[sl] if foreground is not None else img
            if style.background in ("black", "white", "colour"):
                bg = np.asarray({"black": (0, 0, 0), "white": (1, 1, 1)}.get(style.background, style.background_colour), np.float32)
            elif background is not None:
                bg = background[sl]
            else:
                bg = checkerboard(y1 - y0, x1 - x0)
            res = a * fg + (1 - a) * bg
    else:
        raise ValueError(f"unknown view mode {mode!r}; choose one of {VIEW_MODES}")
    out[sl] = np.clip(res * 255 + 0.5, 0, 255).astype(np.uint8)
