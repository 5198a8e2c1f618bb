"""Writing images, mattes and trimaps atomically: a temporary file in the target folder is
renamed over the final name only once it is complete. Float images in [0, 1] are converted to
8- or 16-bit integers in strips (``STRIP_ROWS`` rows at a time), so no full-size float copy
is made even at 100 MP.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.imageio import STRIP_ROWS, ImageError


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, briefly, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    On any failure the temp file is removed and an ``OSError`` with a one-line
    reason is raised; an existing file at ``path`` is left untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OSError(f"{path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OSError(f"{path}: cannot write in {folder} ({exc.strerror or exc})") from None
    try:
        # mkstemp creates 0600 files; give the result the permissions a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OSError(f"{path}: write failed ({exc.strerror or exc})") from None
        raise


def _encode(path: Path, arr: np.ndarray, params: list[int] | None = None) -> bytes:
    ext = path.suffix.lower()
    if ext not in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"):
        raise ImageError(f"{path}: unsupported output format {ext or '(none)'}")
    ok, buf = cv2.imencode(ext, arr, params or [])
    if not ok:
        raise ImageError(f"{path}: encoding failed")
    return buf.tobytes()


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
