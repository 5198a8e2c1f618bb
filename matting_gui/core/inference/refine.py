"""Network-guided closed-form refinement: the quality path's last step.

Closed-form matting (Levin et al.) models α as locally linear in colour and solves a sparse
system; a network knows objects but blurs thin, high-contrast detail. Refinement first makes
the network's confident unknown pixels known (α_net within ``PIN`` of 0 or 1, away from the
pixels it is unsure of by more than ``GROW`` of the image's size, ``reach``), then solves

    (L + Λ) α = Λ α_net   on the rest of the unknown region, with all known pixels fixed,

where L is pymatting's matting Laplacian and Λ a per-pixel weight that trusts the network
where it is confident and leaves the rest to the colour model: Λ = strength · |2 α_net − 1|^sharpness.
Over a wide painted unknown region the colour model then works only along the network's edge,
as it would with a narrow hand-made trimap, instead of spreading haze across the whole region.
It costs one sparse solve (pymatting's conjugate gradients with an incomplete-Cholesky
preconditioner) over the unsure pixels' bounding box: 1–4 s at 1 MP on one core (bench/refine.py).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse

#: Defaults chosen with ``matting-lab refine-sweep`` on the v2 validation set for the shipped teacher
#: (docs/results_v2.md, "Refinement"): network α below PIN or above 1 − PIN is pinned; the unsure
#: pixels keep a margin of GROW × ``reach`` (4 px at 800×600); the prior's weight and the exponent of
#: its confidence.
PIN = 0.03
GROW = 0.004
STRENGTH = 0.01
SHARPNESS = 24.0
#: Known pixels kept around the unknown region's bounding box (they anchor the solve).
MARGIN = 8

#: How often (seconds) an abortable refinement asks ``abort`` while a long native step runs.
POLL = 0.02


class RefineAborted(Exception):
    """``guided_closed_form``'s ``abort`` answered True: the caller no longer wants the result."""


_steps: queue.SimpleQueue = queue.SimpleQueue()  # (step, future) for the helper thread
_helper: threading.Thread | None = None
_helper_lock = threading.Lock()


def _run_steps() -> None:
    """The helper thread: runs queued steps one at a time, skipping those given up while queued.
    It runs at a lower CPU priority (nice +10, Linux): an abandoned step must not slow the network's
    next matte, which runs beside it."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    while True:
        step, future = _steps.get()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(step())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
                future.set_exception(exc)


def run_abortable(abort: Callable[[], bool], step: Callable[[], object]):
    """``step()`` in the one helper thread, asking ``abort`` every ``POLL`` s while it runs.

    The Laplacian's build and the incomplete Cholesky factorisation are numba code that releases
    the GIL but cannot be stopped (the factorisation takes seconds on a 200k-pixel unsure region).
    On abort the caller returns at once and the step finishes on its own, its result dropped; the
    helper has one thread, so at most one abandoned step ever runs, and a later refinement's step
    queues behind it (still asking ``abort`` while it waits). The thread is a daemon: a process
    whose last window closed does not wait for an abandoned step.
    """
    global _helper
    with _helper_lock:
        if _helper is None:
            _helper = threading.Thread(target=_run_steps, name="refine-step", daemon=True)
            _helper.start()
    future: concurrent.futures.Future = concurrent.futures.Future()
    _steps.put((step, future))
    while True:
        try:
            return future.result(timeout=POLL)
        except concurrent.futures.TimeoutError:
            if abort():
                future.cancel()
                raise RefineAborted("refinement superseded") from None


#: A weights card may carry its network's own settings under this key (``RefineSettings.from_card``).
CARD_KEY = "refine"


@dataclass(frozen=True)
class RefineSettings:
    """The refinement's four settings; the defaults are the shipped teacher's.

    A network whose confidence means something else (the student is sure where it is wrong more
    often) carries its own in its card, ``{"refine": {"pin": …, "grow": …, "strength": …,
    "sharpness": …}}``, chosen with ``matting-lab refine-sweep`` for that network.
    """

    pin: float = PIN
    grow: float = GROW
    strength: float = STRENGTH
    sharpness: float = SHARPNESS

    #: accepted range of each setting in a card (anything else in a card is ignored)
    BOUNDS = {"pin": (0.0, 0.49), "grow": (0.0, 0.1), "strength": (0.0, 1e3), "sharpness": (0.0, 64.0)}

    @classmethod
    def from_card(cls, card: dict) -> RefineSettings:
        """The settings in a weights card's ``refine`` entry; defaults for any missing or invalid one
        (a card is a side file anyone can edit: a value out of ``BOUNDS`` or not a number is ignored)."""
        entry = card.get(CARD_KEY) if isinstance(card, dict) else None
        if not isinstance(entry, dict):
            return cls()
        values = {}
        for key, (lo, hi) in cls.BOUNDS.items():
            value = entry.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi:
                values[key] = float(value)
        return cls(**values)

    def as_kwargs(self) -> dict[str, float]:
        """Keyword arguments of ``guided_closed_form``."""
        return {"pin": self.pin, "grow": self.grow, "strength": self.strength, "sharpness": self.sharpness}


def _drop(*_args, **_kwargs) -> None:
    pass


#: The incomplete-Cholesky factor's first room, in multiples of the matrix's non-zeros (the factor of
#: a closed-form system holds 2.2–3.1x as many on the alphamatting photos); it grows 4x when short.
ICHOL_FILL = 6


def quiet_ichol(matrix):
    """pymatting's incomplete-Cholesky preconditioner without its "PERFORMANCE WARNING" prints
    (it retries with larger diagonal shifts by itself; a shift changes only the speed of the
    solve, never its solution), so command output such as report tables stays clean. Its module
    gets a ``print`` of its own that drops them: redirecting ``sys.stdout`` instead would swallow
    every other thread's output while the factorisation runs (seconds, in a helper thread).

    Its room for the factor is sized from the matrix (``ICHOL_FILL`` × its non-zeros, grown when
    short) instead of pymatting's fixed 250 M entries, which reserve 3.7 GB of address space for
    every solve, however small: under an address-space limit even a 64×48 photo failed."""
    import importlib

    from pymatting import ichol

    importlib.import_module("pymatting.preconditioner.ichol").print = _drop
    ceiling = int(4e9 / 16)  # pymatting's own default
    room = min(ceiling, ICHOL_FILL * matrix.nnz + matrix.shape[0] + 1024)
    while True:
        try:
            return ichol(matrix, max_nnz=room)
        except ValueError as exc:
            if "max_nnz" not in str(exc) or room >= ceiling:
                raise
            room = min(ceiling, room * 4)


def closed_form(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Closed-form matting (Levin et al., pymatting) alone, the reference method of every table.

    image float (H, W, 3) in [0, 1]; trimap uint8 (H, W) {0, 128, 255} → alpha float32 (H, W) in [0, 1].
    A trimap that paints no foreground (or no background) pins nothing to 1 (or 0): the matting
    energy is zero for a constant α, so the minimiser is all 0 (all 1), returned without a solve
    (pymatting raises there). A trimap with neither gets 0.
    """
    from pymatting import estimate_alpha_cf

    has_fg = bool((trimap >= 230).any())  # pymatting's thresholds: fg ≥ 0.9, bg ≤ 0.1 (of 255)
    if not has_fg or not (trimap <= 25).any():
        return np.full(trimap.shape, float(has_fg), np.float32)
    return estimate_alpha_cf(image.astype(np.float64), trimap.astype(np.float64) / 255.0,
                             preconditioner=quiet_ichol).astype(np.float32)


def prior_weights(prior: np.ndarray, strength: float = STRENGTH, sharpness: float = SHARPNESS) -> np.ndarray:
    """Per-pixel weight of the network prior: float (H, W) α in [0, 1] → float64 (H, W) ≥ 0."""
    return strength * np.abs(2.0 * prior.astype(np.float64) - 1.0) ** sharpness


def reach(height: int, width: int) -> float:
    """The length refinement margins scale with: the diagonal of a 4:3 photo of the same area
    (for photos, within 3 % of their own diagonal). By area, not by the longest side: a 1×60,000 strip's
    diagonal would make a 240 px disc that its dilation drags along every pixel (minutes)."""
    return 5.0 / np.sqrt(12.0) * float(np.sqrt(height * width))


def pinned_trimap(trimap: np.ndarray, prior: np.ndarray, pin: float = PIN, grow: float = GROW) -> np.ndarray:
    """The trimap with the network's confident unknown pixels made known.

    trimap: uint8 (H, W) {0, 128, 255}; prior: float (H, W) α in [0, 1]. An unknown pixel whose
    prior is within ``pin`` of 0 or 1 becomes background (0) or foreground (255) unless it lies
    within ``grow`` × ``reach`` (at least 1 px) of an unknown pixel the prior is unsure of.
    pin 0 returns the trimap unchanged. Returns uint8 (H, W); known pixels are never changed.
    """
    unknown = (trimap > 0) & (trimap < 255)
    if pin <= 0 or not unknown.any():
        return trimap.copy()
    unsure = (unknown & (prior > pin) & (prior < 1.0 - pin)).astype(np.uint8)
    radius = max(1, round(grow * reach(*trimap.shape)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    pinned = unknown & ~cv2.dilate(unsure, disk).astype(bool)
    out = trimap.copy()
    out[pinned] = np.where(prior[pinned] >= 0.5, 255, 0).astype(np.uint8)
    return out


def guided_closed_form(image: np.ndarray, trimap: np.ndarray, prior: np.ndarray, strength: float = STRENGTH,
                       sharpness: float = SHARPNESS, max_iterations: int = 2000, reach: float = 0.0,
                       pin: float = PIN, grow: float = GROW, abort: Callable[[], bool] | None = None) -> np.ndarray:
    """Refine a network's matte with the closed-form colour model.

    image: float32 (H, W, 3) RGB in [0, 1]; trimap: uint8 (H, W) {0, 128, 255}; prior: float (H, W)
    α in [0, 1] from the network. Returns float32 (H, W) α in [0, 1], equal to the trimap where known
    and 0 or 1 where ``pinned_trimap`` (pin, grow) pins the prior. strength 0 gives plain closed-form
    matting on the rest (pin 0: on the whole unknown region); a large one returns the prior there.
    reach > 0 (pixels): the prior's weight also grows linearly with the distance to the nearest
    known pixel, reaching full weight at ``reach``. abort: asked between the solve's steps, every
    ``POLL`` s during its two long native steps (run in a helper thread, ``run_abortable``) and at every
    conjugate-gradient iteration; True raises ``RefineAborted``, so the app's live refinement gives
    way to the user's next edit within tens of milliseconds. Without abort all runs in the caller.
    """
    from pymatting import cf_laplacian, cg

    def check(*_) -> None:
        if abort is not None and abort():
            raise RefineAborted("refinement superseded")

    def run(step: Callable[[], object]):
        return step() if abort is None else run_abortable(abort, step)

    trimap = pinned_trimap(trimap, prior, pin, grow)
    unknown = (trimap > 0) & (trimap < 255)
    out = np.where(trimap >= 255, 1.0, 0.0).astype(np.float32)
    out[unknown] = prior[unknown]
    if not unknown.any():
        return out
    ys, xs = np.nonzero(unknown)
    h, w = trimap.shape
    y0, y1 = max(0, ys.min() - MARGIN), min(h, ys.max() + MARGIN + 1)
    x0, x1 = max(0, xs.min() - MARGIN), min(w, xs.max() + MARGIN + 1)
    img = image[y0:y1, x0:x1].astype(np.float64)
    tri = trimap[y0:y1, x0:x1]
    pri = prior[y0:y1, x0:x1].astype(np.float64).ravel()
    is_u = ((tri > 0) & (tri < 255)).ravel()
    is_k = ~is_u
    if img.shape[0] < 3 or img.shape[1] < 3 or not is_k.any():
        return out
    check()
    lap = run(lambda: cf_laplacian(img, is_known=is_k.reshape(tri.shape)))
    check()
    weights = prior_weights(pri[is_u], strength, sharpness)
    if reach > 0:
        dist = cv2.distanceTransform(((tri > 0) & (tri < 255)).astype(np.uint8), cv2.DIST_L2, 3)
        weights *= np.minimum(1.0, dist.ravel()[is_u] / reach)
    a_u = lap[is_u, :][:, is_u] + scipy.sparse.diags(weights)
    a_u = a_u.tocsr()
    known_fg = (tri.ravel()[is_k] >= 255).astype(np.float64)
    rhs = -lap[is_u, :][:, is_k].dot(known_fg) + weights * pri[is_u]
    preconditioner = run(lambda: quiet_ichol(a_u))
    check()
    x = cg(a_u, rhs, x0=pri[is_u], M=preconditioner, maxiter=max_iterations, callback=check)
    crop = out[y0:y1, x0:x1].ravel().copy()
    crop[is_u] = np.clip(x, 0, 1)
    out[y0:y1, x0:x1] = crop.reshape(tri.shape)
    return out
