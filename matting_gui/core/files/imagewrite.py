"""Writing images, mattes and trimaps, each encoded in memory and written by ``safe_write``'s one
rule: a temporary file in the target folder, renamed over the final name only once it is complete. Float images in [0, 1] are converted to
8- or 16-bit integers in strips (``STRIP_ROWS`` rows at a time), so no full-size float copy
is made even at 100 MP.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.imageio import STRIP_ROWS, ImageError
from matting_gui.core.files.safe_write import atomic_write_bytes

#: libpng's default limit on a row, which OpenCV's PNG encoder keeps; wider PNGs go through Pillow.
PNG_MAX_WIDTH = 1_000_000


def _encode(path: Path, arr: np.ndarray, params: list[int] | None = None) -> bytes:
    ext = path.suffix.lower()
    if ext not in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"):
        raise ImageError(f"{path}: unsupported output format {ext or '(none)'}")
    if ext == ".png" and arr.shape[1] > PNG_MAX_WIDTH:
        return _encode_wide_png(path, arr)
    ok, buf = cv2.imencode(ext, arr, params or [])
    if not ok:
        raise ImageError(f"{path}: encoding failed")
    return buf.tobytes()


def _encode_wide_png(path: Path, arr: np.ndarray) -> bytes:
    """A PNG wider than libpng's row limit (a 1×4,000,000 strip's matte), encoded by Pillow: gray 8/16-bit,
    BGR or BGRA 8-bit ``arr`` as ``_encode`` takes it."""
    import io

    from PIL import Image

    if arr.ndim == 2:
        img = Image.fromarray(arr.astype(np.uint16) if arr.dtype == np.uint16 else arr,
                              "I;16" if arr.dtype == np.uint16 else "L")
    elif arr.dtype == np.uint8 and arr.shape[2] in (3, 4):
        img = Image.fromarray(np.ascontiguousarray(arr[..., [2, 1, 0, 3][: arr.shape[2]]]))
    else:
        raise ImageError(f"{path}: a 16-bit colour PNG cannot be over {PNG_MAX_WIDTH:,} px wide; export 8-bit")
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def to_uint(arr: np.ndarray, bit_depth: int = 8, out: np.ndarray | None = None) -> np.ndarray:
    """float in [0, 1] (H, W[, C]) → uint8 (bit_depth 8) or uint16 (bit_depth 16), rounded.

    Converted in strips of ``STRIP_ROWS`` rows, so the float temporaries stay small at 100 MP;
    ``out`` (same shape, the target dtype) receives the result when given.
    """
    dtype, scale = (np.uint16, 65535.0) if bit_depth == 16 else (np.uint8, 255.0)
    out = np.empty(arr.shape, dtype) if out is None else out
    for y in range(0, arr.shape[0], STRIP_ROWS):
        strip = np.clip(arr[y : y + STRIP_ROWS], 0, 1).astype(np.float32, copy=False) * scale
        out[y : y + STRIP_ROWS] = np.round(strip, out=strip)
    return out


def write_alpha(path: str | os.PathLike, alpha: np.ndarray, bit_depth: int = 8) -> None:
    """Write alpha float32 (H, W) in [0, 1] as a gray PNG of ``bit_depth`` 8 or 16, atomically."""
    path = Path(path)
    atomic_write_bytes(path, _encode(path, to_uint(alpha, bit_depth)))


def write_rgba(path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray, bit_depth: int = 8) -> None:
    """Write a straight-alpha cutout: rgb (H, W, 3) and alpha (H, W), floats in [0, 1]."""
    path = Path(path)
    depth = 8 if path.suffix.lower() == ".webp" else bit_depth
    bgra = np.empty((*alpha.shape, 4), np.uint16 if depth == 16 else np.uint8)  # no float copy of the image
    to_uint(rgb[..., ::-1], depth, out=bgra[..., :3])
    to_uint(alpha, depth, out=bgra[..., 3])
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if path.suffix.lower() == ".webp" else None  # 101 = lossless
    atomic_write_bytes(path, _encode(path, bgra, params))


def write_rgb(path: str | os.PathLike, rgb: np.ndarray, quality: int = 95, bit_depth: int = 8) -> None:
    """Write an RGB float32 (H, W, 3) image in [0, 1]; ``quality`` applies to JPEG/WebP."""
    path = Path(path)
    ext = path.suffix.lower()
    depth = bit_depth if ext in (".png", ".tif", ".tiff") else 8
    params = None
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    atomic_write_bytes(path, _encode(path, to_uint(rgb[..., ::-1], depth), params))


def write_composite(path: str | os.PathLike, fg: np.ndarray, alpha: np.ndarray,
                    background: np.ndarray | tuple[float, float, float], quality: int = 95, bit_depth: int = 8) -> None:
    """Write αF + (1−α)B (``compose.composite``) computed in strips straight into the file's integer
    image: no full-size float copy (1.3 GB at 110 MP). fg (H, W, 3), alpha (H, W), background an
    (H, W, 3) image or an RGB colour, floats in [0, 1]; ``quality`` applies to JPEG/WebP."""
    from matting_gui.core.imaging.compose import composite

    path = Path(path)
    ext = path.suffix.lower()
    depth = bit_depth if ext in (".png", ".tif", ".tiff") else 8
    out = np.empty(fg.shape, np.uint16 if depth == 16 else np.uint8)
    image_bg = isinstance(background, np.ndarray)
    for y in range(0, fg.shape[0], STRIP_ROWS):
        rows = slice(y, y + STRIP_ROWS)
        strip = composite(fg[rows], alpha[rows], background[rows] if image_bg else background)
        to_uint(strip[..., ::-1], depth, out=out[rows])
    params = None
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    atomic_write_bytes(path, _encode(path, out, params))


def write_trimap(path: str | os.PathLike, trimap: np.ndarray) -> None:
    """Write a uint8 (H, W) trimap as gray PNG, atomically."""
    path = Path(path)
    atomic_write_bytes(path, _encode(path, np.ascontiguousarray(trimap, dtype=np.uint8)))
