"""The inference worker: one thread owns the models; the newest request wins.

The UI thread calls ``MatteService.submit(job)``; the job replaces any job still
waiting (superseded jobs are never run). The worker thread runs jobs one at a
time and reports ``finished(MatteJobResult)`` or ``failed(job_id, message)``.
The UI decides whether a result is still current (``job.revision``) before
showing it, so a stale result is never painted.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field

import numpy as np

# quantize_fx is loaded here, on the UI thread while the app starts (~0.1-0.2 s), so that the int8
# build, which runs in the background after a model loads, does not load it: one of its modules
# holds the GIL for ~0.15 s while it loads, which froze the UI while the first photo opened.
import torch.ao.quantization.quantize_fx  # noqa: F401
from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.predictor import Predictor


@dataclass
class MatteJob:
    """image float32 (H, W, 3); trimap uint8 (H, W); max_pixels None = the predictor's working size."""

    job_id: int
    revision: int
    image: np.ndarray
    trimap: np.ndarray
    model: str = "student"
    device: str = "cpu"
    max_pixels: int | None = None
    preview: bool = False
    want_foreground: bool = False
    tag: str = ""
    mirror: bool = False  # average with the mirrored image's matte (exports)
    refine: bool = False  # finish with network-guided closed-form matting (exports)


@dataclass
class MatteJobResult:
    """alpha float32 (H, W) in [0, 1] at full size; foreground (H, W, 3) when requested."""
    job: MatteJob
    alpha: np.ndarray
    model_name: str
    seconds: float
    working_size: tuple[int, int]
    foreground: np.ndarray | None = field(default=None)
    precision: str = "fp32"  # "int8" for previews once the quantized network is ready


def trimap_problem(trimap: np.ndarray) -> str | None:
    """Why a trimap cannot be matted yet (no unknown or no known pixels), or None."""
    import cv2

    counts = cv2.calcHist([trimap], [0], None, [256], [0, 256]).ravel()
    if counts[1:255].sum() == 0:
        return "no unknown region yet: paint the edge with the unknown brush or use Auto band (Ctrl+B)"
    if counts[0] + counts[255] == 0:
        return "no known region: paint some foreground or background"
    return None


class _Worker(QObject):
    finished = Signal(object)  # MatteJobResult
    failed = Signal(int, str)  # job id, one-line message
    notice = Signal(int, str)  # job id, why nothing was computed (an incomplete trimap, not an error)
    busy = Signal(bool)

    def __init__(self, service: MatteService):
        super().__init__()
        self._service = service
        self._predictors: dict[tuple[str, str], Predictor] = {}

    def predictor(self, model: str, device: str) -> Predictor:
        """The Predictor for (model, device), loaded on first use in the worker thread."""
        key = (model, device)
        if key not in self._predictors:
            pred = Predictor(model, device)
            pred.start_int8_build()  # previews switch to int8 (~2x faster) once it is ready
            self._predictors[key] = pred
        return self._predictors[key]

    @Slot()
    def drain(self) -> None:
        """Run the newest waiting job (if any), then look again until none is left."""
        while True:
            job = self._service._take()
            if job is None:
                self.busy.emit(False)
                return
            self.busy.emit(True)
            try:
                if self._service.fail_next is not None:  # test hook: inject a worker failure
                    exc, self._service.fail_next = self._service.fail_next, None
                    raise exc
                problem = trimap_problem(job.trimap)  # a full scan: done here, not on the UI thread
                if problem:
                    self.notice.emit(job.job_id, problem)
                    continue
                pred = self.predictor(job.model, job.device)
                res = pred.predict(job.image, job.trimap, job.max_pixels, fast_upsample=job.preview,
                                   int8=job.preview, mirror=job.mirror, refine=job.refine)
                fg = None
                if job.want_foreground:
                    from ..core.compose import estimate_foreground

                    fg = estimate_foreground(job.image, res.alpha)
                self.finished.emit(MatteJobResult(job, res.alpha, res.model_name, res.seconds, res.working_size, fg,
                                                  res.precision))
            except MemoryError:
                self.failed.emit(job.job_id, "out of memory while computing the matte; try a smaller working size")
            except Exception as exc:  # noqa: BLE001 - every worker error must reach the user, not kill the thread
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                traceback.print_exc()
                self.failed.emit(job.job_id, msg)


class MatteService(QObject):
    """Owns the worker thread. ``submit`` is non-blocking; ``shutdown`` joins the thread."""

    finished = Signal(object)
    failed = Signal(int, str)
    notice = Signal(int, str)
    busy = Signal(bool)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: MatteJob | None = None
        self._next_id = 0
        self.fail_next: BaseException | None = None
        self.superseded = 0  # jobs replaced before they ran (for tests and the status bar)
        self._thread = QThread()
        self._thread.setObjectName("matte-worker")
        self._worker = _Worker(self)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.drain)
        self._worker.finished.connect(self.finished)
        self._worker.failed.connect(self.failed)
        self._worker.notice.connect(self.notice)
        self._worker.busy.connect(self.busy)
        self._thread.start()

    def new_id(self) -> int:
        """A fresh, increasing job id."""
        self._next_id += 1
        return self._next_id

    def submit(self, job: MatteJob) -> None:
        """Queue ``job``, replacing a job still waiting; never blocks on inference."""
        with self._lock:
            if self._pending is not None:
                self.superseded += 1
            self._pending = job
        self._wake.emit()

    def _take(self) -> MatteJob | None:
        with self._lock:
            job, self._pending = self._pending, None
            return job

    def cancel_pending(self) -> None:
        """Drop the waiting job, if any (the running one finishes)."""
        with self._lock:
            self._pending = None

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Drop waiting jobs, stop the thread after the running job; True if it stopped in time."""
        self.cancel_pending()
        self._thread.quit()
        return self._thread.wait(timeout_ms)
