"""Select subject off the UI thread: GrabCut from a box (``core.select_subject``) becomes the trimap
as one undo step, unless the photo changed meanwhile."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from ...core.select_subject import select_subject
from ...core.session import EditorSession


class SelectionController(QObject):
    """``select(box)`` starts GrabCut in a thread; ``selected`` fires once the trimap is replaced."""

    selected = Signal()
    error = Signal(str)
    status = Signal(str)

    def __init__(self, session: EditorSession, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.worker = None  # the running superqt worker, if any

    def select(self, box: tuple[float, float, float, float] | None = None) -> bool:
        """Select the subject inside box (x, y, w, h; None: the whole photo). False if nothing to do."""
        s = self.session
        if s.photo is None or (self.worker is not None and self.worker.is_running):
            return False
        serial = s.photo.serial
        self.worker = create_worker(select_subject, s.photo.rgb, box)
        self.worker.returned.connect(lambda trimap: self._apply(serial, trimap))
        self.worker.errored.connect(lambda exc: self.error.emit(f"select subject: {exc}"))
        self.worker.finished.connect(lambda: self.status.emit(""))
        self.status.emit("Selecting the subject…")
        self.worker.start()
        return True

    def _apply(self, serial: int, trimap) -> None:
        if self.session.photo is not None and self.session.photo.serial == serial:  # else another photo is open
            self.session.doc.replace(trimap)
            self.selected.emit()
