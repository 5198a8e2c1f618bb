"""numpy ↔ Qt image conversion, in one place."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_API", "pyside6")  # qimage2ndarray defaults to PyQt5

import numpy as np  # noqa: E402
import qimage2ndarray  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """Any QImage → float32 (H, W, 3) RGB in [0, 1] (alpha dropped), e.g. from the clipboard."""
    converted = image.convertToFormat(QImage.Format.Format_RGB32)
    return qimage2ndarray.rgb_view(converted).astype(np.float32) / 255.0


def writable_rgb_view(image: QImage) -> np.ndarray:
    """A (H, W, 3) uint8 view into an RGB32 QImage's pixels: writing to it changes the image."""
    return qimage2ndarray.rgb_view(image)


def render_target(image: QImage) -> np.ndarray:
    """The view of an RGB32 QImage that ``core.view.render`` writes fastest: its own B, G, R, x
    bytes (H, W, 4) where that is the memory layout (little-endian), else the RGB view."""
    return qimage2ndarray.byte_view(image) if sys.byteorder == "little" else writable_rgb_view(image)
