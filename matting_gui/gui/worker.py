"""The inference worker: one thread owns the models; the newest interactive request wins.

``MatteService.submit(job)`` replaces an interactive job still waiting (superseded jobs never
run); ``export(job)`` queues an export, which nothing supersedes: it finishes, fails, or is
cancelled by the user. The worker reports ``finished(MatteJobResult)``, ``exported(ExportJob,
paths)``, ``notice(job_id, text)`` (an incomplete trimap) and ``errored(job_id, exception)``.
The session decides whether a result is still current before showing it.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from matting_gui.core.editing.session import MatteStamp
from matting_gui.core.editing.trimap import check_trimap
from matting_gui.core.files.outputs import OutputRequest, write_outputs
from matting_gui.core.imaging.adjust import EdgeAdjustments, apply_adjustments
from matting_gui.core.nets.model_files import EXPORT_STEPS

if TYPE_CHECKING:  # torch loads with the first model, after the window shows (~2 s of imports)
    from matting_gui.core.inference.predictor import MatteResult, Predictor

def warm_up() -> list[tuple[str, str]]:
    """Load what the first matte, the first int8 build and the first composite view need (torch, its
    FX quantization, pymatting with numba and scipy: ~2 s of imports), then look for a GPU; returns
    ``settings.available_devices()``. The app runs it in a thread once its window shows: importing
    an extension module holds the GIL for up to a few hundred ms, which is a hiccup at start-up but
    froze the first composite view (0.5 s at 24 MP) when the foreground estimator loaded then."""
    import pymatting  # noqa: F401
    import torch.ao.quantization.quantize_fx  # noqa: F401

    import matting_gui.core.inference.predictor  # noqa: F401
    from matting_gui.gui.settings import available_devices

    devices = available_devices()
    global _FROZEN
    if not _FROZEN:  # once per process: what is loaded now lives as long as the app
        gc.freeze()  # ~300k objects: a full GC pass over them took ~200 ms, stalling the UI at random moments
        _FROZEN = True
    return devices


_FROZEN = False  # warm_up has moved the start-up imports' objects out of the collector's reach


class PredictorPool:
    """Predictors by (model, device), made on first use by ``factory`` (default: ``Predictor`` with
    its int8 preview copy built in the background). Thread-safe; tests inject a factory."""

    def __init__(self, factory: Callable[[str, str], Predictor] | None = None):
        self._factory = factory or self._default
        self._lock = threading.Lock()
        self._predictors: dict[tuple[str, str], Predictor] = {}

    @staticmethod
    def _default(model: str, device: str) -> Predictor:
        from matting_gui.core.inference.predictor import Predictor

        pred = Predictor(model, device)
        pred.start_int8_build(compare=True)  # previews switch to int8 once it is built, if it is faster here
        return pred

    def get(self, model: str, device: str) -> Predictor:
        """The predictor for (model, device), loading it now if needed (raises what loading raises)."""
        with self._lock:
            key = (model, device)
            if key not in self._predictors:
                self._predictors[key] = self._factory(model, device)
            return self._predictors[key]

    def loaded(self, model: str, device: str) -> bool:
        """True when (model, device) is loaded already (the next matte will not wait for loading)."""
        with self._lock:
            return (model, device) in self._predictors

    def forget(self) -> None:
        """Drop every loaded predictor (the next request reloads, e.g. after the weights changed)."""
        with self._lock:
            self._predictors.clear()


@dataclass
class MatteJob:
    """image float32 (H, W, 3); trimap uint8 (H, W), a copy; max_pixels None = the predictor's working size."""

    job_id: int
    stamp: MatteStamp
    image: np.ndarray
    trimap: np.ndarray
    device: str = "cpu"
    max_pixels: int | None = None
    want_foreground: bool = False  # full mattes only: decontaminated colours too
    follow_up: bool = False  # a preview that the full matte follows, unless a newer job came meanwhile
    refine_after: bool = False  # the full matte is followed by its refinement, unless a newer job came
    settling: bool = False  # the job that follows a full matte: export's matte of the same trimap
    # the settled matte is export's: computed by this network with these steps (mirror, refine, fuse)
    settle_model: str | None = None
    settle_steps: dict = field(default_factory=lambda: dict(EXPORT_STEPS))


@dataclass
class MatteJobResult:
    """The predictor's result (alpha at full size) plus decontaminated colours when requested, and
    for full mattes a hint on the trimap (``check_trimap``'s advice)."""

    job: MatteJob
    result: MatteResult
    foreground: np.ndarray | None = field(default=None)
    advice: str | None = None


@dataclass
class ExportJob:
    """Everything an export needs, fixed when it starts: later edits, undos or opens do not change it."""

    job_id: int
    model: str
    device: str
    image: np.ndarray
    trimap: np.ndarray
    adjust: EdgeAdjustments
    folder: Path
    stem: str
    request: OutputRequest
    decontaminate: bool
    background: np.ndarray | tuple[float, float, float] | None
    bit_depth: int = 8
    mirror: bool = True
    refine: bool = False
    fuse: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


class ExportCancelled(Exception):
    """The user cancelled the export before its files were written."""


class _Worker(QObject):
    finished = Signal(object)  # MatteJobResult
    exported = Signal(object, list)  # ExportJob, paths written
    errored = Signal(int, object)  # job id, the exception
    notice = Signal(int, str)  # job id, why nothing was computed (an incomplete trimap, not an error)
    busy = Signal(bool)

    def __init__(self, service: MatteService):
        super().__init__()
        self._service = service

    @Slot()
    def drain(self) -> None:
        """Run waiting jobs, exports first, until none is left."""
        while True:
            job = self._service.take()
            if job is None:
                self.busy.emit(False)
                return
            self.busy.emit(True)
            try:
                problem, advice = check_trimap(job.trimap)  # a full scan: done here, not on the UI thread
                if problem:
                    self.notice.emit(job.job_id, f"the trimap {problem}")
                    continue
                if isinstance(job, ExportJob):
                    self.exported.emit(job, self._export(job))
                else:
                    result = self._matte(job, advice)
                    if result is None:
                        continue  # a stroke's preview or a refinement superseded by a newer request: dropped
                    self.finished.emit(result)
                    if job.follow_up:
                        full = dataclasses.replace(job, stamp=dataclasses.replace(job.stamp, preview=False),
                                                   max_pixels=None, follow_up=False)
                        self._service.follow_up(full)
                    elif job.refine_after and not job.stamp.preview:
                        settle = dataclasses.replace(job, stamp=dataclasses.replace(job.stamp, refined=True),
                                                     refine_after=False, settling=True)
                        self._service.follow_up(settle)
            except Exception as exc:  # noqa: BLE001 - every worker error must reach the user, not kill the thread
                if not isinstance(exc, ExportCancelled | MemoryError):
                    traceback.print_exc()
                self.errored.emit(job.job_id, exc)

    def _matte(self, job: MatteJob, advice: str | None) -> MatteJobResult | None:
        pred = self._service.predictors.get(job.stamp.model, job.device)
        preview = job.stamp.preview
        live = preview and job.stamp.stroke is not None  # drawn while painting; dropped once the stroke ended

        def stroke_over() -> bool:
            waiting = self._service.peek()
            return waiting is not None and waiting.stamp.stroke != job.stamp.stroke

        def anything_waiting() -> bool:  # a refinement (seconds) gives way to any newer job, and to closing
            return self._service.has_newer_work()

        if job.settling:  # the settled matte: export's matte, given up for any newer job
            settle = self._service.predictors.get(job.settle_model or job.stamp.model, job.device)
            res = settle.predict(job.image, job.trimap, superseded=anything_waiting, **job.settle_steps)
        else:
            res = pred.predict(job.image, job.trimap, job.max_pixels, fast_upsample=preview,
                               int8=preview and pred.prefers_int8, superseded=stroke_over if live else None)
        if res is None:
            return None
        fg = None
        if job.want_foreground and not preview:
            from matting_gui.core.imaging.compose import estimate_foreground

            fg = estimate_foreground(job.image, res.alpha)
        return MatteJobResult(job, res, fg, None if preview else advice)

    def _export(self, job: ExportJob) -> list[Path]:
        if job.cancelled.is_set():
            raise ExportCancelled("export cancelled")
        pred = self._service.predictors.get(job.model, job.device)
        res = pred.predict(job.image, job.trimap, mirror=job.mirror, refine=job.refine, fuse=job.fuse,
                           superseded=job.cancelled.is_set)
        if res is None:
            raise ExportCancelled("export cancelled")
        alpha = apply_adjustments(res.alpha, job.adjust)
        colours = job.image
        if job.request.needs_colours and job.decontaminate:
            from matting_gui.core.imaging.compose import estimate_foreground

            colours = estimate_foreground(job.image, alpha)
        if job.cancelled.is_set():
            raise ExportCancelled("export cancelled")
        return write_outputs(job.folder, job.stem, job.request, alpha, colours, job.background, job.bit_depth)


class MatteService(QObject):
    """Owns the worker thread. ``submit`` and ``export`` never block; ``shutdown`` joins the thread."""

    finished = Signal(object)
    exported = Signal(object, list)
    errored = Signal(int, object)
    notice = Signal(int, str)
    busy = Signal(bool)
    submitted = Signal(object)  # an interactive MatteJob, as it is queued (UI thread)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None, predictors: PredictorPool | None = None):
        super().__init__(parent)
        self.predictors = predictors or PredictorPool()
        self._lock = threading.Lock()
        self._pending: MatteJob | None = None
        self._stopping = False
        self._interrupted = False
        self._exports: deque[ExportJob] = deque()
        self._next_id = 0
        self.superseded = 0  # interactive jobs replaced before they ran
        self._thread = QThread()
        self._thread.setObjectName("matte-worker")
        self._worker = _Worker(self)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.drain)
        for name in ("finished", "exported", "errored", "notice", "busy"):
            getattr(self._worker, name).connect(getattr(self, name))
        self._thread.start()

    def new_id(self) -> int:
        """A fresh, increasing job id."""
        self._next_id += 1
        return self._next_id

    def submit(self, job: MatteJob) -> None:
        """Queue an interactive ``job``, replacing one still waiting."""
        with self._lock:
            if self._pending is not None:
                self.superseded += 1
            self._pending = job
            self._interrupted = False
        self._wake.emit()
        self.submitted.emit(job)

    def follow_up(self, job: MatteJob) -> None:
        """Queue ``job`` unless a newer interactive job is already waiting (worker thread)."""
        with self._lock:
            if self._pending is None:
                self._pending = job

    def export(self, job: ExportJob) -> None:
        """Queue an export behind earlier ones; it is never replaced."""
        with self._lock:
            self._exports.append(job)
        self._wake.emit()

    def take(self) -> MatteJob | ExportJob | None:
        """The next job to run (worker thread): the oldest export, else the newest interactive job."""
        with self._lock:
            if self._exports:
                return self._exports.popleft()
            job, self._pending = self._pending, None
            return job

    def peek(self) -> MatteJob | None:
        """The interactive job waiting, if any, left in place (any thread)."""
        with self._lock:
            return self._pending

    def interrupt(self) -> None:
        """The user started other work that wants the CPU (Select subject, Auto band): a running
        refinement gives way now, and so does any until the next ``submit`` (its result brings a new job)."""
        with self._lock:
            self._interrupted = True

    def has_newer_work(self) -> bool:
        """True while an interactive job or an export waits, after ``interrupt`` until the next
        ``submit``, or once ``shutdown`` began (any thread)."""
        with self._lock:
            return self._stopping or self._interrupted or self._pending is not None or bool(self._exports)

    @property
    def waiting(self) -> int:
        """Jobs queued and not started (at most one interactive, plus exports)."""
        with self._lock:
            return len(self._exports) + (self._pending is not None)

    def cancel_pending(self) -> None:
        """Drop the waiting interactive job, if any (the running one finishes; exports stay)."""
        with self._lock:
            self._pending = None

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel waiting work, stop the thread after the running job (a refinement stops at its next
        step); True if it stopped in time."""
        with self._lock:
            self._stopping = True
            self._pending = None
            for job in self._exports:
                job.cancelled.set()
            self._exports.clear()
        self._thread.quit()
        return self._thread.wait(timeout_ms)

    def running(self) -> bool:
        """True while the worker thread runs (after ``shutdown``: a step that cannot be interrupted)."""
        return self._thread.isRunning()
