"""Exports: a snapshot of the photo, trimap and settings, computed in the worker while the user goes
on editing. Progress shows in the window at once (the status bar's export strip, with Cancel); no
dialog ever blocks the editor, the unsaved-trimap prompt or the window's close button."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from matting_gui.core.editing.session import EditorSession
from matting_gui.core.editing.trimap import trimap_problem
from matting_gui.core.files.outputs import OutputRequest, destination_problem
from matting_gui.core.files.paths import printable
from matting_gui.gui.prompter import Prompter
from matting_gui.gui.worker import ExportCancelled, ExportJob, MatteService


class ExportController(QObject):
    """Starts exports and follows them: ``running(text)`` when one starts (what it computes) and
    ``running("")`` when it ends; ``exported(paths)`` once its files are written."""

    exported = Signal(list)  # paths written
    running = Signal(str)  # what the running export computes; "" when none runs
    error = Signal(str)
    status = Signal(str)
    idle = Signal()  # the export ended (written, failed or cancelled)

    def __init__(self, session: EditorSession, service: MatteService, prompter: Prompter,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.service, self.prompter = session, service, prompter
        self.close_when_done = False  # the user chose to close the window once the export ends
        self.job: ExportJob | None = None
        self._ids: set[int] = set()  # every export's job id, running or ended
        service.exported.connect(self._on_exported)
        service.errored.connect(self._on_error)
        service.notice.connect(self._on_notice)

    def owns(self, job_id: int) -> bool:
        """Whether ``job_id`` is an export's (its errors and notices are this controller's, not the live
        mattes'), running or already ended."""
        return job_id in self._ids

    def _running(self, job_id: int) -> bool:
        return self.job is not None and self.job.job_id == job_id

    def export(self, folder: Path, stem: str, request: OutputRequest, mirror: bool = True,
               refine: bool = False, model: str | None = None, fuse: bool = False) -> int | None:
        """Export the current photo, trimap and settings as they are now, with the network ``model``
        (default: the one shown); ``exported`` fires when the files are written (edits, undos or
        opening another photo meanwhile change nothing). Returns the job id, or None after a message."""
        s = self.session
        if s.photo is None:
            return None
        problem = trimap_problem(s.doc.trimap)
        if problem:
            self.error.emit(f"cannot export: the trimap {problem}")
            return None
        if self.job is not None:
            self.error.emit("an export is still running: wait for it or cancel it")
            return None
        problem = destination_problem(Path(folder), stem, request, create=True)
        if problem:
            self.error.emit(f"export failed: {problem}")
            return None
        background = s.background() if request.composite else None
        model = model or s.model
        self.job = ExportJob(self.service.new_id(), model, s.device, s.photo.rgb, s.doc.snapshot(),
                             dataclasses.replace(s.adjust), Path(folder), stem, request, s.decontaminate,
                             background, s.photo.image.bit_depth, mirror, refine, fuse=fuse)
        self._ids.add(self.job.job_id)
        self.service.export(self.job)
        name = printable(s.photo.name) if s.photo.path else "the pasted image"
        self.running.emit(f"Exporting {name} ({model})…")
        return self.job.job_id

    def cancel(self) -> None:
        """Cancel the running export: nothing is written unless its files are already being written."""
        if self.job is not None and not self.job.cancelled.is_set():
            self.job.cancelled.set()
            self.running.emit("Cancelling the export…")

    def may_close(self) -> bool:
        """Whether the window may close now; with an export running, the user decides: cancel it (True),
        close once it ends (False now; ``idle`` follows), or keep editing (False)."""
        if self.job is None:
            return True
        choice = self.prompter.export_running()
        if choice == "cancel":
            self.cancel()
            return True
        if choice == "wait":
            self.close_when_done = True
            self.status.emit("The window closes when the export ends")
        return False

    def _on_exported(self, job: ExportJob, paths: list) -> None:
        if job is self.job:
            self._end(None)
            self.status.emit(f"Exported {len(paths)} file(s) to {printable(job.folder)}")
            self.exported.emit(paths)

    def _on_error(self, job_id: int, exc: BaseException) -> None:
        if not self._running(job_id):
            return
        if isinstance(exc, MemoryError):
            message = "out of memory while computing the matte; try a smaller working size"
        else:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self._end(None if isinstance(exc, ExportCancelled) else f"export failed: {message}")

    def _on_notice(self, job_id: int, message: str) -> None:
        if self._running(job_id):
            self._end(f"cannot export: {message}")

    def _end(self, message: str | None) -> None:
        cancelled = self.job is not None and self.job.cancelled.is_set()
        self.job = None
        self.running.emit("")
        if message:
            self.error.emit(message)
        elif cancelled:
            self.status.emit("Export cancelled: nothing was written")
        self.idle.emit()
