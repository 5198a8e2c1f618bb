"""A PNG's compressed image data, checked against its declared size before a decoder runs.

libpng (inside OpenCV, which decodes the project's 16-bit PNGs and alpha mattes) inflates every
IDAT chunk to the end of the stream, even past the last row it needs: a small file whose zlib
stream goes on for gigabytes of zeros costs seconds per megabyte of file. ``check_png_data``
inflates the stream itself, never more than the declared rows need plus one byte, and refuses a
stream that is longer; its work is bounded by the declared size, like the decode that follows.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Samples per pixel of each PNG colour type (gray, RGB, palette, gray+alpha, RGBA).
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Adam7 passes: (x start, y start, x step, y step).
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
#: Inflated bytes produced per call, so a refused stream never costs more memory than this.
STEP_BYTES = 4 * 1024 * 1024


class PngDataError(ValueError):
    """The image data does not fit the declared size; ``str()`` is the reason, without the file name."""


def _row_bytes(width: int, bits_per_pixel: int) -> int:
    return 1 + (width * bits_per_pixel + 7) // 8  # the filter byte, then the packed samples


def raw_size(width: int, height: int, bit_depth: int, colour_type: int, interlaced: bool) -> int:
    """Bytes the inflated image data of a ``width`` × ``height`` PNG holds (filter bytes included)."""
    bpp = CHANNELS.get(colour_type, 4) * bit_depth
    if not interlaced:
        return height * _row_bytes(width, bpp)
    total = 0
    for x0, y0, dx, dy in ADAM7:
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w > 0 and h > 0:
            total += h * _row_bytes(w, bpp)
    return total


def check_png_data(data: bytes | memoryview) -> None:
    """Raise ``PngDataError`` when the PNG in ``data`` carries more image data than its IHDR's size needs.

    Files that are no PNG, or whose chunks are damaged, pass: their decoder reports them. The cost is
    one inflate of at most the declared raw size (plus one byte), in ``STEP_BYTES`` steps.
    """
    view = memoryview(data)
    if bytes(view[:8]) != SIGNATURE:
        return
    pos, budget, inflater, produced = 8, None, zlib.decompressobj(), 0
    while pos + 8 <= len(view):
        length, kind = struct.unpack(">I4s", view[pos:pos + 8])
        body = view[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR" and len(body) == 13:
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            budget = raw_size(width, height, depth, colour, interlace == 1)
        elif kind == b"IDAT" and budget is not None:
            pending = bytes(body)
            while pending:
                try:
                    out = inflater.decompress(pending, min(STEP_BYTES, budget - produced + 1))
                except zlib.error:
                    return  # damaged: the decoder says so
                produced += len(out)
                if produced > budget:
                    raise PngDataError(f"its compressed image data inflates past the {budget:,} bytes that its "
                                       f"declared {width}x{height} size needs (a decompression bomb?)")
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    return
        elif kind == b"IEND":
            return
