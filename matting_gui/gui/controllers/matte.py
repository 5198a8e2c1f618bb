"""When mattes are computed, and what happens to them: live previews while painting, the full
matte after an edit (then its refinement, with *Refine edges* on), and exports (with a progress
dialog that can cancel)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget
from superqt.utils import QSignalDebouncer, QSignalThrottler

from matting_gui.core.editing.session import EditorSession
from matting_gui.core.editing.trimap import trimap_problem
from matting_gui.core.files.outputs import OutputRequest
from matting_gui.core.files.paths import printable
from matting_gui.core.nets.model_files import EXPORT_STEPS, FINAL_MODEL, INSTALLED_MODELS
from matting_gui.gui.worker import ExportCancelled, ExportJob, MatteJob, MatteJobResult, MatteService

#: Photos above PREVIEW_PIXELS·1.5 get a reduced-size (int8 once ready) preview before the full matte.
PREVIEW_PIXELS = 512 * 512
DEBOUNCE_MS = 100  # after an edit, wait this long for the next before computing
THROTTLE_MS = 50  # while a stroke is painted, a new preview request at most this often (the worker keeps the newest)


class MatteController(QObject):
    """Schedules matte jobs for the session and shows their results; runs exports."""

    shown = Signal(object)  # MatteJobResult now on screen
    exported = Signal(list)  # paths written
    error = Signal(str)
    notice = Signal(str)  # why no matte was computed (an incomplete trimap)
    advice = Signal(str)  # a hint on the trimap of the matte just shown (once, until the hint changes)
    status = Signal(str)
    described = Signal(str, str)  # the matte on screen: "model · kind size", "time"

    def __init__(self, session: EditorSession, service: MatteService, dialog_parent: QWidget):
        super().__init__(dialog_parent)
        self.session, self.service, self._dialog_parent = session, service, dialog_parent
        self.export_job: ExportJob | None = None
        # the settled matte is export's: its network and steps (the export dialog's remembered choices)
        self.settle_model: str | None = None  # None: the live network
        self.settle_steps: dict = dict(EXPORT_STEPS)
        self._loading: str | None = None  # the model whose "Loading…" message is up, until its first matte
        self._advised: str | None = None  # the hint last given, so that each new matte does not repeat it
        self._progress: QProgressDialog | None = None
        self._debounce = QSignalDebouncer(parent=self)  # edits: compute once they pause
        self._debounce.setTimeout(DEBOUNCE_MS)
        self._debounce.triggered.connect(self.request)
        self._throttle = QSignalThrottler(parent=self)  # painting: a preview at once, then at most every THROTTLE_MS
        self._throttle.setTimeout(THROTTLE_MS)
        self._throttle.triggered.connect(self._stroke_preview)
        service.finished.connect(self._on_result)
        service.exported.connect(self._on_exported)
        service.errored.connect(self._on_error)
        service.notice.connect(self._on_notice)
        session.trimap_changed.connect(self._on_trimap_changed)
        session.photo_opened.connect(self._on_photo_opened)
        session.model_changed.connect(self._on_model_changed)

    # ---------------------------------------------------------------- scheduling
    def _on_photo_opened(self) -> None:
        self._advised = None
        self.service.cancel_pending()
        self._throttle.cancel()
        self._debounce.throttle()  # not at once: a photo opened and closed again at once never loads a model

    def _on_trimap_changed(self, rect, kind: str) -> None:
        if kind == "paint":  # live previews while the stroke goes on
            self._throttle.throttle()
            return
        self._throttle.cancel()
        if kind == "stroke":  # the moment the user waits for: at once; other edits are debounced
            self._debounce.cancel()
            self.request()
        else:
            self._debounce.throttle()

    def _stroke_preview(self) -> None:
        if self.session.doc is not None and self.session.doc.in_stroke:
            self.request(preview=True)

    def _on_model_changed(self) -> None:
        s = self.session
        if not self.service.predictors.loaded(s.model, s.device):
            self.status.emit(f"Loading the {s.model} model…")  # the first matte of a model waits for it (1–2 s)
            self._loading = s.model
        self.request()

    def _large(self) -> bool:
        h, w = self.session.photo.rgb.shape[:2]
        return h * w > PREVIEW_PIXELS * 1.5

    def request(self, preview: bool | None = None) -> int | None:
        """Compute the current trimap's matte (None: a preview first on large photos, then the full
        matte, both from this one request); returns the job id, or None with no photo."""
        s = self.session
        if s.photo is None:
            return None
        large = self._large()
        preview = large if preview is None else preview and large
        follow_up = preview and not s.doc.in_stroke
        want_fg = s.decontaminate and s.view_mode == "composite"
        refine_after = s.refine and not s.doc.in_stroke  # never while painting: the next preview comes at once
        job = MatteJob(self.service.new_id(), s.stamp(preview), s.photo.rgb, s.doc.trimap.copy(), s.device,
                       PREVIEW_PIXELS if preview else None, want_fg, follow_up, refine_after,
                       settle_model=self.settle_model, settle_steps=dict(self.settle_steps))
        self.service.submit(job)
        return job.job_id

    def _on_result(self, res: MatteJobResult) -> None:
        if not self.session.show_matte(res.job.stamp, res.result.alpha, res.foreground):
            return
        r = res.result
        stamp = res.job.stamp
        kind = ("preview" if stamp.preview else "refined" if stamp.refined else "full") + (
            " int8" if r.precision == "int8" else "")
        self.described.emit(f"{r.model_name} · {kind} {r.working_size[0]}×{r.working_size[1]}", f"{r.seconds * 1000:.0f} ms")
        if self._loading == res.job.stamp.model and self.export_job is None:
            self._loading = None
            self.status.emit("")  # loaded: the message would otherwise claim it for six more seconds
        if not res.job.stamp.preview:
            if res.advice and res.advice != self._advised:
                self.advice.emit(res.advice)
            self._advised = res.advice
        self.shown.emit(res)

    def want_colours(self) -> None:
        """Decontaminated colours are needed now (composite view): compute them if the matte lacks them."""
        s = self.session
        if s.decontaminate and s.matte is not None and s.matte.foreground is None and s.matte_is_current:
            self.request()

    def _on_notice(self, job_id: int, message: str) -> None:
        if self.export_job is not None and job_id == self.export_job.job_id:
            self._end_export(f"cannot export: {message}")
            return
        self.notice.emit(f"nothing to matte yet: {message}. Paint the edge with the Unknown brush, or paint the "
                         "subject with the Foreground brush and press Auto band (Ctrl+B)")

    def _on_error(self, job_id: int, exc: BaseException) -> None:
        self._loading = None
        if isinstance(exc, MemoryError):
            message = "out of memory while computing the matte; try a smaller working size"
        else:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if self.export_job is not None and job_id == self.export_job.job_id:
            self._end_export(None if isinstance(exc, ExportCancelled) else f"export failed: {message}")
        else:
            self.error.emit(f"matting failed: {message}")

    def settle_to(self, settings) -> None:
        """Settle each edit on what export would write with ``settings``' remembered choices (typed ``Settings``)."""
        self.settle_model = settings.export_model if settings.export_model in INSTALLED_MODELS else FINAL_MODEL
        self.settle_steps = {"mirror": settings.export_mirror, "refine": settings.export_refine,
                             "fuse": settings.export_fuse}

    # ---------------------------------------------------------------- export
    def export(self, folder: Path, stem: str, request: OutputRequest, mirror: bool = True,
               refine: bool = False, model: str | None = None, fuse: bool = False) -> int | None:
        """Export the current photo, trimap and settings as they are now, with the network ``model``
        (default: the one shown); ``exported`` fires when the files are written (edits, undos or
        opening another photo meanwhile change nothing)."""
        s = self.session
        if s.photo is None:
            return None
        problem = trimap_problem(s.doc.trimap)
        if problem:
            self.error.emit(f"cannot export: the trimap {problem}")
            return None
        if self.export_job is not None:
            self.error.emit("an export is still running: wait for it or cancel it")
            return None
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.error.emit(f"export failed: cannot create {printable(folder)} ({exc.strerror})")
            return None
        background = s.background() if request.composite else None
        model = model or s.model
        self.export_job = ExportJob(self.service.new_id(), model, s.device, s.photo.rgb, s.doc.trimap.copy(),
                                    dataclasses.replace(s.adjust), Path(folder), stem, request, s.decontaminate,
                                    background, s.photo.image.bit_depth, mirror, refine, fuse=fuse)
        self.service.export(self.export_job)
        self._progress = QProgressDialog(f"Computing the full-resolution matte ({model}) and writing the files…",
                                         "Cancel", 0, 0, self._dialog_parent)
        self._progress.setWindowTitle("Export")
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._progress.setMinimumDuration(300)  # quick exports never flash a dialog
        self._progress.canceled.connect(self.cancel_export)
        self.status.emit("Exporting…")
        return self.export_job.job_id

    def cancel_export(self) -> None:
        """Cancel the running export: nothing is written unless its files are already being written."""
        if self.export_job is not None:
            self.export_job.cancelled.set()
            self.status.emit("Cancelling the export…")

    def _on_exported(self, job: ExportJob, paths: list) -> None:
        if job is self.export_job:
            self._end_export(None)
            self.status.emit(f"Exported {len(paths)} file(s) to {printable(job.folder)}")
            self.exported.emit(paths)

    def _end_export(self, message: str | None) -> None:
        cancelled = self.export_job is not None and self.export_job.cancelled.is_set()
        self.export_job = None
        if self._progress is not None:
            self._progress.canceled.disconnect(self.cancel_export)
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None
        if message:
            self.error.emit(message)
        elif cancelled:
            self.status.emit("Export cancelled: nothing was written")
