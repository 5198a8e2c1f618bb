"""The size the engine mattes a photo at, bounded by pixels whatever the photo's shape.

Every cost of a matte (the network's activations, the refinement's sparse system, the solvers'
Laplacians) grows with the pixels the network and the solves see, and the network sees the photo
padded to multiples of ``PAD`` on both sides. For photos that padding adds under 20 % at 1 MP,
and the working size is the photo scaled to ``max_pixels``; for a strip it would dominate: a
1×4,000,000 strip scaled to 1 MP keeps its one row and is padded to a 32 × 2,000,000 input (64 MP).
So the padded size is bounded too, at ``PADDED_SLACK`` × ``max_pixels``: once the short side is at
one pixel, only the long side shrinks (that strip is matted at 1 × 39,000 and brought back to full
size), and a strip costs no more than a photo.
"""

from __future__ import annotations

import math

#: The network's input is padded to multiples of this on both sides (its deepest stride).
PAD = 32
#: The padded working size may exceed ``max_pixels`` by this factor (photos never reach it).
PADDED_SLACK = 1.25


def padded(n: int) -> int:
    """``n`` rounded up to a multiple of ``PAD``."""
    return -(-n // PAD) * PAD


def working_size(height: int, width: int, max_pixels: int) -> tuple[int, int]:
    """(height, width) to matte a ``width`` × ``height`` photo at: its own size when it has at most
    ``max_pixels`` pixels and its padded size at most ``PADDED_SLACK`` times that; else smaller, the
    same aspect while both sides exceed one pixel (the long side alone shrinks after that)."""
    if height < 1 or width < 1:
        raise ValueError(f"the photo has no pixels ({width}x{height})")
    limit = PADDED_SLACK * max_pixels
    scale = min(1.0, math.sqrt(max_pixels / (height * width)))
    while True:
        sh, sw = max(1, round(height * scale)), max(1, round(width * scale))
        if padded(sh) * padded(sw) <= limit or sh == sw == 1:
            return sh, sw
        scale *= 0.97
