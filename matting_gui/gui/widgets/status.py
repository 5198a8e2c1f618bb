"""The status bar (photo info, messages, the shown matte's model, size and time, busy, zoom) and the
error box."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton, QStatusBar, QWidget


class StatusBar(QStatusBar):
    """Permanent labels for the matte and zoom; ``showMessage`` for transient text."""

    def __init__(self):
        super().__init__()
        self.busy_bar = QProgressBar(maximumWidth=90, maximum=0, visible=False)  # indeterminate
        self.info_label = QLabel("Open a photo (Ctrl+O) or the sample (Help → Open sample)")
        self.model_label, self.time_label, self.zoom_label = QLabel(""), QLabel(""), QLabel("100%")
        # a running export: what it computes, a busy bar and Cancel, shown at once (never a modal dialog)
        self.export_strip = QWidget(visible=False)
        strip = QHBoxLayout(self.export_strip)
        strip.setContentsMargins(0, 0, 0, 0)
        self.export_label = QLabel("")
        self.export_cancel = QPushButton("Cancel export")
        strip.addWidget(self.export_label)
        strip.addWidget(QProgressBar(maximumWidth=90, maximum=0))
        strip.addWidget(self.export_cancel)
        self.addWidget(self.info_label, 1)
        for w in (self.export_strip, self.model_label, self.time_label, self.busy_bar, self.zoom_label):
            self.addPermanentWidget(w)

    def show_export(self, text: str) -> None:
        """A running export's description ("Exporting photo.jpg (teacher)…"); empty text hides the strip."""
        self.export_label.setText(text)
        self.export_cancel.setEnabled(text.startswith("Exporting"))
        self.export_strip.setVisible(bool(text))

    def show_matte(self, what: str, time: str) -> None:
        """The matte on screen: e.g. ("student · full 512×512", "349 ms"); empty strings clear it."""
        self.model_label.setText(what)
        self.time_label.setText(time)

    def show_zoom(self, zoom: float) -> None:
        """The canvas zoom as a percentage."""
        self.zoom_label.setText(f"{zoom * 100:.0f}%")

    def show_message(self, text: str) -> None:
        """A transient message (6 s); empty text clears."""
        if text:
            self.showMessage(text, 6000)
        else:
            self.clearMessage()


class ErrorBox:
    """One window-modal warning box, reused: a second error while one shows replaces its text."""

    def __init__(self, parent: QWidget):
        self._parent = parent
        self._box: QMessageBox | None = None

    def show(self, message: str) -> None:
        """Show ``message`` (one line, already printable) without blocking."""
        if self._box is not None and self._box.isVisible():
            self._box.setText(message)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "matting-gui", message, QMessageBox.StandardButton.Ok, self._parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        self._box = box
        box.open()

    def _closed(self, _result: int = 0) -> None:
        self._box = None
