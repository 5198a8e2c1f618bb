"""Edge adjustments applied to a raw matte, non-destructively (like Select and Mask).

All take and return float32 (H, W) alpha in [0, 1]; the raw matte is never
modified. ``apply_adjustments`` runs them in a fixed order: smooth, feather,
contrast, shift edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class EdgeAdjustments:
    """smooth: 0..10 (px, median-like); feather: 0..20 px blur; contrast: 0..100 %; shift: -100..100 %."""

    smooth: float = 0.0
    feather: float = 0.0
    contrast: float = 0.0
    shift: float = 0.0

    @property
    def is_identity(self) -> bool:
        """True when no adjustment is set (the raw matte is used as is)."""
        return self == EdgeAdjustments()

    def as_dict(self) -> dict[str, float]:
        """The four values by name (for settings and JSON)."""
        return asdict(self)


def apply_adjustments(alpha: np.ndarray, adj: EdgeAdjustments) -> np.ndarray:
    """Return the adjusted ``alpha`` (float32 (H, W) in [0, 1]); never modifies the input.

    With no adjustment the input itself is returned (no 96 MB copy on a 24 MP matte).
    """
    if adj.is_identity:
        return alpha
    out = alpha.astype(np.float32, copy=True)
    if adj.smooth > 0:
        # smooth jaggies on the edge: blur then re-sharpen around 0.5 keeps the edge position
        r = float(adj.smooth)
        blurred = cv2.GaussianBlur(out, (0, 0), r)
        out = np.clip((blurred - 0.5) * (1 + r / 5) + 0.5, 0, 1)
    if adj.feather > 0:
        out = cv2.GaussianBlur(out, (0, 0), float(adj.feather) / 2)
    if adj.shift != 0:
        # shift edge: move the transition in (negative) or out (positive) via a gamma curve
        gamma = 2.0 ** (-adj.shift / 50.0)
        out = np.power(np.clip(out, 0, 1), gamma)
    if adj.contrast > 0:
        k = 1 + adj.contrast / 10.0
        out = np.clip((out - 0.5) * k + 0.5, 0, 1)
    return out.astype(np.float32)
