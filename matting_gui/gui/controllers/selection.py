"""Trimap work off the UI thread: Select subject (GrabCut from a box, ``core.select_subject``) and
Auto band (distance transforms: ~1 s at 24 MP); each result becomes one undo step, unless the
photo or trimap changed meanwhile."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from matting_gui.core.editing.select_subject import NEARLY_EMPTY, select_subject, selected_share
from matting_gui.core.editing.session import EditorSession


class SelectionController(QObject):
    """``select(box)`` and ``auto_band(width)`` start their work in a thread; ``selected`` fires once
    the trimap is replaced."""

    started = Signal()  # work began in a thread (the app lets a running refinement give way to it)
    ended = Signal(bool)  # that work ended (after ``selected``, if any): True if it changed the trimap
    selected = Signal()
    error = Signal(str)
    status = Signal(str)

    def __init__(self, session: EditorSession, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.worker = None  # the running superqt worker, if any
        self._changed = False  # whether the running work changed the trimap

    def select(self, box: tuple[float, float, float, float] | None = None) -> bool:
        """Select the subject inside box (x, y, w, h; None: the whole photo). False if nothing to do."""
        s = self.session
        if s.photo is None or (self.worker is not None and self.worker.is_running):
            return False
        serial = s.photo.serial
        self.worker = create_worker(select_subject, s.photo.rgb, box, _ignore_errors=True)  # errors: our handler
        self.worker.returned.connect(lambda trimap: self._apply(serial, trimap, box))
        self.worker.errored.connect(lambda exc: self.error.emit(f"select subject: {exc}"))
        self.worker.finished.connect(lambda: (self.status.emit(""), self.ended.emit(self._changed)))
        self._changed = False
        self.status.emit("Selecting the subject…")
        self.started.emit()
        self.worker.start()
        return True

    def _apply(self, serial: int, trimap, box) -> None:
        if self.session.photo is not None and self.session.photo.serial == serial:  # else another photo is open
            self._changed = self.session.doc.replace(trimap)
            self.selected.emit()
            share = selected_share(trimap, box)
            if share < NEARLY_EMPTY:  # applied (one undo step), but never silently
                self.error.emit(f"Select subject found almost nothing in the box ({share:.1%} of it is foreground): "
                                "drag a tighter box around the subject, or paint it with the Foreground brush")

    def auto_band(self, width: int) -> bool:
        """Put an unknown band of ``width`` px around the painted foreground, computed in a thread."""
        s = self.session
        if s.doc is None or (self.worker is not None and self.worker.is_running):
            return False
        doc = s.doc
        self.worker = create_worker(doc.compute_band, width, _ignore_errors=True)  # errors: our handler
        self.worker.returned.connect(lambda result: self._apply_band(doc, result))
        self.worker.errored.connect(lambda exc: self.error.emit(str(exc)))
        self.worker.finished.connect(lambda: (self.status.emit(""), self.ended.emit(self._changed)))
        self._changed = False
        self.status.emit("Auto band…")
        self.started.emit()
        self.worker.start()
        return True

    def _apply_band(self, doc, result) -> None:
        if doc is not self.session.doc:
            return  # another photo is open
        try:
            self._changed = doc.apply_band(result)
        except ValueError as exc:
            self.error.emit(str(exc))
        else:
            self.selected.emit()
