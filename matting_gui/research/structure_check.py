"""The lattice check: how much of a background structure under a wide band a network calls foreground.

``thin.hair_over_lattice`` puts a lattice tower (dark girders on a sky) behind a sheet of long strands,
under a 90 px painted band. A matte that mistakes background structure for the subject lights up the
girders; ``lattice_check`` counts them, for the live network and for export's steps alike.
"""

from __future__ import annotations

import os

import numpy as np

GIRDER_LUMA = 0.35  # the girders are dark (0.16 grey), the sky light (> 0.55): a pixel under this is a girder


def structure_under_band(image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(background pixels under the unknown band, those of them on a girder): bool (H, W) masks of the case's
    image float32 (H, W, 3) in [0, 1], trimap uint8 {0, 128, 255} and true α float32 (H, W)."""
    under = (trimap == 128) & (alpha < 0.01)
    return under, under & (image.mean(-1) < GIRDER_LUMA)


def lattice_shares(pred: np.ndarray, image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray) -> dict:
    """{'background': share of the background under the band with predicted α > 0.2, 'girders': share of its
    girder pixels with α > 0.5} for a predicted α float32 (H, W) in [0, 1]."""
    under, girders = structure_under_band(image, trimap, alpha)
    return {"background": float((pred[under] > 0.2).mean()), "girders": float((pred[girders] > 0.5).mean())}


def lattice_check(weights: str | os.PathLike, steps: dict | None = None, size: int = 512) -> dict:
    """The network ``weights`` (an installed model's name or a weights file) on the lattice case (seed 0) with ``steps`` (Predictor.predict's keyword
    arguments: {} for the live matte, EXPORT_STEPS for export's): {'sad', 'grad', 'background', 'girders'}."""
    from ..core.evaluation.metrics import evaluate_alpha
    from ..core.inference.predictor import Predictor
    from .data.thin import hair_over_lattice

    image, trimap, alpha = hair_over_lattice(size)
    pred = Predictor(weights, device="cpu").predict(image, trimap, **(steps or {})).alpha
    s = evaluate_alpha(pred, alpha, trimap)
    return {"sad": s.sad, "grad": s.grad, **lattice_shares(pred, image, trimap, alpha)}
