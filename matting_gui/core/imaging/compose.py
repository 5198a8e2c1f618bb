"""Foreground colour estimation (decontamination) and compositing.

Colours are float32 in [0, 1]; alpha is float32 (H, W) in [0, 1]. Foreground
estimation uses pymatting's multi-level estimator (``estimate_foreground_ml``);
pymatting JIT-compiles with numba on first import (~45 s here, then cached on
disk), so it is imported lazily, inside the estimate (which the app runs in its worker).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Above this size the foreground is estimated at reduced size (pymatting's solver holds
#: several float64 copies of the image: gigabytes at 24 MP) and brought back as a correction.
FOREGROUND_MAX_PIXELS = 2_000_000


def _estimate_ml(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    from pymatting import estimate_foreground_ml  # lazy: numba compile on first import

    return np.clip(estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64)), 0, 1).astype(np.float32)


def estimate_foreground(image: np.ndarray, alpha: np.ndarray, max_pixels: int = FOREGROUND_MAX_PIXELS) -> np.ndarray:
    """Foreground colours F with I ≈ αF + (1−α)B. image (H, W, 3), alpha (H, W) → (H, W, 3) float32 in [0, 1].

    Photos above ``max_pixels`` are solved at reduced size and the *correction* F − I
    (smooth: it removes the background's colour spill) is upsampled and added to the
    full-resolution photo, so texture detail stays that of the photo.
    """
    h, w = alpha.shape
    if h * w <= max_pixels:
        return _estimate_ml(image, alpha)
    scale = (max_pixels / (h * w)) ** 0.5
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    img_small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    alpha_small = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
    correction = _estimate_ml(img_small, alpha_small) - img_small
    fg = cv2.resize(correction, (w, h), interpolation=cv2.INTER_LINEAR)
    fg += image  # in place: one full-size float array (1.3 GB at 110 MP), not two
    return np.clip(fg, 0, 1, out=fg).astype(np.float32, copy=False)


def cover_resize(background: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale (keeping aspect) and centre-crop an (h, w, 3) image to cover (height, width)."""
    h, w = background.shape[:2]
    scale = max(height / h, width / w)
    nh, nw = max(height, round(h * scale)), max(width, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(background, (nw, nh), interpolation=interp)
    y, x = (nh - height) // 2, (nw - width) // 2
    return resized[y : y + height, x : x + width]


def blurred_background(image: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """A strongly blurred copy of the photo, (H, W, 3), σ ≈ 2% of the long side by default."""
    sigma = sigma or max(image.shape[:2]) * 0.02
    return cv2.GaussianBlur(image, (0, 0), sigma)


def composite(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """αF + (1−α)B. background: an (H, W, 3) image or an RGB colour in [0, 1]. Returns (H, W, 3) float32."""
    out = np.empty(fg.shape, np.float32)
    solid = None if isinstance(background, np.ndarray) else np.asarray(background, np.float32).reshape(1, 1, 3)
    for y in range(0, fg.shape[0], 256):  # in strips: no full-size temporaries (a 100 MP export)
        a = alpha[y : y + 256, :, None].astype(np.float32)
        bg = solid if solid is not None else background[y : y + 256].astype(np.float32, copy=False)
        np.multiply(a, fg[y : y + 256], out=out[y : y + 256])
        out[y : y + 256] += (1.0 - a) * bg
    return out


def checkerboard(height: int, width: int, cell: int = 16) -> np.ndarray:
    """A light/dark gray checkerboard (H, W, 3) float32, for showing transparency."""
    tile = np.full((2 * cell, 2 * cell, 3), 0.6, np.float32)
    tile[:cell, cell:] = tile[cell:, :cell] = 0.8
    # cv2.repeat, not np.tile: it lets go of the GIL (np.tile held it for ~0.2 s at 24 MP, in the display
    # thread, which stalled the UI)
    board = cv2.repeat(tile, -(-height // (2 * cell)), -(-width // (2 * cell)))
    return board if board.shape[:2] == (height, width) else np.ascontiguousarray(board[:height, :width])


#: What a composite can be laid over (the app's choices; the CLI takes a colour or an image).
BACKGROUND_KINDS = ("checkerboard", "black", "white", "colour", "image", "blurred")


def background_for(kind: str, photo: np.ndarray, colour: tuple[float, float, float] = (0.0, 0.0, 0.0),
                   picture: np.ndarray | None = None) -> np.ndarray | tuple[float, float, float]:
    """The background of ``kind`` for ``photo`` (H, W, 3): an RGB colour in [0, 1] (black, white, colour)
    or float32 (H, W, 3) pixels in [0, 1] (checkerboard; blurred photo; picture cover-resized;
    image without a picture: checkerboard)."""
    h, w = photo.shape[:2]
    if kind == "black":
        return (0.0, 0.0, 0.0)
    if kind == "white":
        return (1.0, 1.0, 1.0)
    if kind == "colour":
        return tuple(float(c) for c in colour)
    if kind == "blurred":
        return blurred_background(photo)
    if kind == "image" and picture is not None:
        return cover_resize(picture, h, w)
    if kind in ("checkerboard", "image"):
        return checkerboard(h, w)
    raise ValueError(f"unknown background {kind!r}; choose one of {BACKGROUND_KINDS}")
