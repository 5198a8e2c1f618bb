"""Image and trimap reading, shared by the CLI, the GUI and training.

Reading normalises every supported file (PNG, JPEG, TIFF, WebP, BMP; 8/16-bit;
gray, palette, RGB, RGBA, CMYK; any EXIF orientation) to RGB float32 in [0, 1]
and remembers the source bit depth. Every failure is an ``ImageError`` naming the
file and the reason. Writing lives in ``imagewrite``.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .pngcheck import PngDataError, check_png_data

#: Largest image accepted by default (pixels). A 24 MP photo is fine; a PNG that
#: declares 40000x40000 is treated as a decompression bomb. Override per call.
MAX_PIXELS = 120_000_000

# We do our own size check (with a clear message) before decoding.
Image.MAX_IMAGE_PIXELS = None

#: Rows converted at a time between integer and float images: bounds the temporaries to a strip.
STRIP_ROWS = 256

SUPPORTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")

#: The only Pillow decoders ever run, whatever a file's name or content claims (the JPEG one also
#: reads the multi-picture JPEGs, MPO, many cameras write). Anything else — EPS, which Pillow would hand to
#: Ghostscript, or ICO/ICNS, which decode inside ``Image.open`` before any size check — is
#: refused as unsupported before a decoder runs.
DECODERS = ("PNG", "JPEG", "TIFF", "WEBP", "BMP")

#: Everything a decoder may raise on a hostile file (Pillow: OSError, ValueError, SyntaxError,
#: struct.error, TypeError, EOFError, IndexError; EXIF parsing: KeyError; OpenCV: cv2.error).
DECODE_ERRORS = (OSError, ValueError, SyntaxError, struct.error, TypeError, EOFError, IndexError, KeyError,
                 ZeroDivisionError, cv2.error)

#: A file may not be larger than its raw pixels (8 bytes a pixel: 16-bit RGBA) plus this slack;
#: a bigger one carries a tail no decoder needs, and is refused before it is read into memory.
FILE_SLACK_BYTES = 64 * 1024 * 1024


class ImageError(ValueError):
    """An image or trimap file that cannot be used. ``str()`` is a one-line reason naming the file."""


@dataclass
class LoadedImage:
    """rgb: float32 (H, W, 3) in [0, 1]; bit_depth: 8 or 16 (of the source file)."""

    path: Path | None
    rgb: np.ndarray
    bit_depth: int = 8
    source_mode: str = "RGB"
    had_alpha: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


class _OpenCvTiff(ImageError):
    """A TIFF Pillow has no mode for (3- or 4-channel float samples): its header was read and its size
    checked, and only OpenCV decodes it (read_image). Elsewhere it is an unsupported format."""


def _open(path: Path, max_pixels: int) -> Image.Image:
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: file is empty (0 bytes)")
    unsupported = f"{path}: not a supported image format (PNG, JPEG, TIFF, WebP or BMP)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(path, formats=DECODERS)
    except UnidentifiedImageError:
        size = _tiff_size(path)
        if size is None:
            raise ImageError(unsupported) from None
        _check_size(path, *size, max_pixels)
        raise _OpenCvTiff(unsupported) from None
    except DECODE_ERRORS as exc:
        raise ImageError(f"{path}: cannot be read ({_one_line(exc)})") from None
    try:
        _check_size(path, *img.size, max_pixels)
    except ImageError:
        img.close()
        raise
    return img


def _check_size(path: Path, w: int, h: int, max_pixels: int) -> None:
    """Refuse a declared size over ``max_pixels``, an empty one, and a file far larger than its pixels need."""
    if w * h > max_pixels:
        raise ImageError(
            f"{path}: declared size {w}x{h} ({w * h / 1e6:.0f} MP) exceeds the limit of "
            f"{max_pixels / 1e6:.0f} MP (possible decompression bomb)"
        )
    if w < 1 or h < 1:
        raise ImageError(f"{path}: has no pixels ({w}x{h})")
    if path.stat().st_size > w * h * 8 + FILE_SLACK_BYTES:
        raise ImageError(f"{path}: file is far larger ({path.stat().st_size / 1e6:.0f} MB) than a {w}x{h} image "
                         "can need; refusing to read it")


def _tiff_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the first directory of a TIFF with 32- or 64-bit float samples, which Pillow
    cannot open; None for anything else (or a directory that cannot be parsed)."""
    from PIL import TiffImagePlugin

    try:
        with path.open("rb") as f:
            head = f.read(8)
            if head[:4] not in (b"II*\x00", b"MM\x00*"):
                return None
            ifd = TiffImagePlugin.ImageFileDirectory_v2(head)
            f.seek(ifd.next)
            ifd.load(f)
        formats = ifd.get(339, (1,))
        formats = formats if isinstance(formats, tuple) else (formats,)
        if 3 not in formats:  # SampleFormat 3: IEEE float
            return None
        return int(ifd[256]), int(ifd[257])
    except DECODE_ERRORS:
        return None


@contextmanager
def _decoding(path: Path) -> Iterator[None]:
    """Turn whatever a decoder raises into a one-line ``ImageError`` naming ``path``.

    Pillow reports truncated files as OSError("image file is truncated ..."), corrupt EXIF as
    struct.error or TypeError; OpenCV images beyond its size limit raise cv2.error.
    """
    try:
        yield
    except ImageError:
        raise
    except DECODE_ERRORS as exc:
        raise ImageError(f"{path}: cannot be decoded ({_one_line(exc)})") from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode it") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _is_16bit(img: Image.Image) -> bool:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return True
    # Pillow decodes 16-bit RGB(A) PNG/TIFF to 8-bit; detect them from the header.
    if img.format == "PNG":
        return img.info.get("bitdepth", 8) == 16 or _png_bitdepth(img) == 16
    if img.format == "TIFF":
        bits = img.tag_v2.get(258) if hasattr(img, "tag_v2") else None
        if bits is not None:
            bits = bits if isinstance(bits, (tuple, list)) else (bits,)
            return max(bits) == 16
    return False


def _png_bitdepth(img: Image.Image) -> int:
    try:
        with open(img.filename, "rb") as f:  # IHDR: 8 sig + 8 chunk header + 8 w/h + depth byte
            head = f.read(25)
    except (OSError, AttributeError, TypeError):
        return 8
    return head[24] if len(head) == 25 and head[:8] == b"\x89PNG\r\n\x1a\n" else 8


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an (H, W[, C]) array, as ImageOps.exif_transpose does."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(ops[orientation](arr)) if orientation in ops else arr


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read a photo as RGB float32 (H, W, 3) in [0, 1], EXIF orientation applied.

    Raises ``ImageError`` (one line, naming the file) for missing, empty, unreadable,
    truncated or oversized files.
    """
    path = Path(path)
    try:
        img = _open(path, max_pixels)
    except _OpenCvTiff:  # 3- or 4-channel float samples: scaled like other 32-bit ones
        with _decoding(path):
            rgb, depth = _read_with_opencv(path)
        return LoadedImage(path, np.ascontiguousarray(rgb), depth, "RGB;float")
    notes: list[str] = []
    with _decoding(path), img:
        mode = img.mode
        orientation = img.getexif().get(0x0112, 1) if hasattr(img, "getexif") else 1
        had_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
        if had_alpha:
            notes.append("alpha channel ignored for matting")
        if mode == "CMYK":
            notes.append("CMYK converted to RGB")
        oriented = False  # whether the decoder has applied the EXIF/TIFF orientation itself
        if img.format == "TIFF" and mode != "CMYK":
            # OpenCV's TIFF decoder applies the orientation tag itself, correctly for 1-8 (Pillow 13
            # applies it while loading too, wrongly for 5-8): decoded once, oriented once
            rgb, depth = _read_with_opencv(path)
            oriented = True
        elif mode in ("F", "I"):  # 32-bit float or integer samples: scaled by their range, or refused
            img.load()
            rgb = np.repeat(_scaled_wide_samples(path, np.asarray(img))[..., None], 3, axis=2)
            depth = 16
        elif _is_16bit(img):
            rgb, depth = _read_with_opencv(path)
        else:
            img.load()
            rgb = _to_float(np.asarray(img if mode == "RGB" else img.convert("RGB")))
            depth = 8
        if not oriented:  # one rule for every other format and depth
            rgb = _apply_orientation(rgb, orientation)
    if orientation not in (1, None):
        notes.append(f"EXIF orientation {orientation} applied")
    return LoadedImage(path, np.ascontiguousarray(rgb), depth, mode, had_alpha, notes)


def _to_float(u8: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) → float32 in [0, 1], converted in strips (no full-size temporaries)."""
    out = np.empty(u8.shape, np.float32)
    for y in range(0, u8.shape[0], STRIP_ROWS):
        np.divide(u8[y : y + STRIP_ROWS], np.float32(255.0), out=out[y : y + STRIP_ROWS])
    return out


def _scaled_wide_samples(path: Path, arr: np.ndarray) -> np.ndarray:
    """32-bit float or integer gray samples → float32 (H, W) in [0, 1].

    Floats up to 1 are taken as they are; other values up to 255 as 8-bit and up to 65535 as
    16-bit intensities; anything else (negative, NaN, larger) is refused, never silently clipped.
    """
    is_float = np.issubdtype(arr.dtype, np.floating)
    arr = arr.astype(np.float64)
    if arr.size == 0 or not np.isfinite(arr).all() or arr.min() < 0:
        raise ImageError(f"{path}: 32-bit samples are negative or not finite; expected intensities")
    top = float(arr.max())
    if is_float and top <= 1.0:
        return arr.astype(np.float32)
    for limit in (255.0, 65535.0):
        if top <= limit:
            return (arr / limit).astype(np.float32)
    raise ImageError(f"{path}: 32-bit samples up to {top:.0f} exceed 16 bits; convert the image to 8 or 16 bits")


def _decode_with_opencv(path: Path) -> np.ndarray:
    """The file's samples, (H, W) or (H, W, C) in BGR(A) order. A PNG's EXIF orientation is not
    applied; a TIFF's orientation tag is (OpenCV's TIFF decoder does so whatever the flags)."""
    return _bounded_imdecode(path, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)


def _bounded_imdecode(path: Path, flags: int) -> np.ndarray:
    """``cv2.imdecode`` of the file, a PNG's image data first checked against its declared size
    (``pngcheck``: libpng would inflate all of a stream that goes on past the last row)."""
    data = np.fromfile(path, np.uint8)  # bounded: _open refused files far larger than their pixels
    try:
        check_png_data(data.data)
    except PngDataError as exc:
        raise ImageError(f"{path}: {exc}") from None
    wide = bytes(data[:8]) == b"\x89PNG\r\n\x1a\n" and int.from_bytes(bytes(data[16:20]), "big") > 1_000_000
    arr = _wide_png(path) if wide else cv2.imdecode(data, flags)  # libpng refuses rows over 1,000,000 px
    if arr is None:
        raise ImageError(f"{path}: cannot be decoded")
    return arr


def _wide_png(path: Path) -> np.ndarray | None:
    """A gray (8/16-bit) or 8-bit colour PNG too wide for OpenCV's libpng, decoded by Pillow, in
    ``cv2.imdecode``'s layout (BGR order); None for anything else."""
    with Image.open(path, formats=("PNG",)) as img:
        if img.width <= 1_000_000 or img.mode not in ("L", "I;16", "RGB", "RGBA"):
            return None
        arr = np.asarray(img)
    return arr if arr.ndim == 2 else np.ascontiguousarray(arr[..., [2, 1, 0, 3][: arr.shape[2]]])


def _read_with_opencv(path: Path) -> tuple[np.ndarray, int]:
    """(RGB float32 (H, W, 3) in [0, 1], source bit depth) of a 16-bit PNG or any TIFF."""
    arr = _decode_with_opencv(path)
    if arr.dtype == np.float64:  # colour conversion takes 32-bit floats at most
        arr = arr.astype(np.float32)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0, 8
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0, 16
    return _scaled_wide_samples(path, arr), 16


def read_trimap(path: str | os.PathLike, max_pixels: int = MAX_PIXELS, photo_shape: tuple[int, ...] | None = None,
                notes: list[str] | None = None) -> np.ndarray:
    """Read a trimap as uint8 (H, W): 0 background, 255 foreground, other = unknown.

    Gray (8/16-bit) files are used as they are; RGB(A) files only when their colour
    channels are identical (a gray trimap saved as RGB), else ``ImageError``. The file's own EXIF
    orientation is applied, as it is to photos; ``notes`` (when given) is told so. photo_shape
    (H, W[, C]): the photo it belongs to; a trimap of another size is an ``ImageError`` that names
    both sizes, and the orientation when it is the reason (stored one way, oriented the other).
    """
    path = Path(path)
    img = _open(path, max_pixels)
    with _decoding(path), img:
        orientation = img.getexif().get(0x0112, 1)
        orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
        apply = orientation
        if img.format == "TIFF" and img.mode != "CMYK":  # as in read_image: OpenCV orients TIFFs itself
            arr = _decode_with_opencv(path)
            apply = 1
            if arr.ndim == 3:
                if not all(np.array_equal(arr[..., 0], arr[..., c]) for c in range(1, min(3, arr.shape[2]))):
                    raise ImageError(f"{path}: trimap is a colour image; expected gray (0 = bg, 128 = unknown, 255 = fg)")
                arr = arr[..., 0]
            img = Image.fromarray(np.ascontiguousarray(arr))
        img.load()
        gray = _trimap_samples(path, img)
    # oriented like the photo it belongs to (read_image applies the same EXIF orientation)
    gray = np.ascontiguousarray(_apply_orientation(gray, apply))
    if photo_shape is not None and gray.shape != tuple(photo_shape[:2]):
        h, w = gray.shape
        why = ""
        if orientation != 1:
            stored = f"{h}x{w}" if orientation >= 5 else f"{w}x{h}"
            why = f" after its EXIF orientation {orientation} (stored as {stored}, turned by the tag)"
        raise ImageError(f"{path}: trimap size {w}x{h}{why} does not match the image ({photo_shape[1]}x{photo_shape[0]})")
    if orientation != 1 and notes is not None:
        notes.append(f"trimap's EXIF orientation {orientation} applied")
    return gray


def _trimap_samples(path: Path, img: Image.Image) -> np.ndarray:
    """A decoded trimap image's samples as uint8 (H, W), before orientation."""
    if img.mode in ("I;16", "I;16B", "I;16L"):
        arr = np.asarray(img, dtype=np.float64)
        return np.round(arr / 65535.0 * 255.0).clip(0, 255).astype(np.uint8)
    if img.mode in ("I", "F"):  # 32-bit: its own range decides (0/128/255, 16-bit or [0, 1])
        return np.round(_scaled_wide_samples(path, np.asarray(img)) * 255.0).astype(np.uint8)
    if img.mode in ("L", "1", "P", "LA"):
        return np.asarray(img.convert("L"), dtype=np.uint8)
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
        raise ImageError(f"{path}: trimap is a colour image; expected gray (0 = bg, 128 = unknown, 255 = fg)")
    return rgb[..., 0]


def read_alpha(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a ground-truth alpha matte as float32 (H, W) in [0, 1] (8- or 16-bit gray).

    Checked like a photo before decoding (supported format, declared size, file size).
    """
    path = Path(path)
    _open(path, max_pixels).close()
    try:
        arr = _bounded_imdecode(path, cv2.IMREAD_UNCHANGED)
    except (cv2.error, MemoryError) as exc:
        raise ImageError(f"{path}: cannot be decoded as an alpha matte ({_one_line(exc)})") from None
    if arr.ndim == 3:
        arr = arr[..., 0]
    scale = 65535.0 if arr.dtype == np.uint16 else 255.0
    return arr.astype(np.float32) / scale
