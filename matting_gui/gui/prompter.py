"""Every question the app asks the user, behind one small object that tests replace."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog, QMessageBox, QWidget

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp);;All files (*)"


class Prompter:
    """Modal dialogs: unsaved changes, yes/no, file and colour choosers. ``parent``: the window."""

    def __init__(self, parent: QWidget):
        self.parent = parent

    def save_choice(self) -> str:
        """'save', 'discard' or 'cancel' for a trimap with unsaved changes."""
        buttons = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved trimap",
                          "The trimap has unsaved changes. Save them before continuing?",
                          buttons.Save | buttons.Discard | buttons.Cancel, self.parent)
        answer = buttons(box.exec())
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def export_running(self) -> str:
        """'wait', 'cancel' or 'stay': what closing the window does to a running export."""
        box = QMessageBox(QMessageBox.Icon.Question, "Export running",
                          "An export is still running. Close the window when it ends, or cancel it and close now?",
                          QMessageBox.StandardButton.NoButton, self.parent)
        wait = box.addButton("Close when done", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel export and close", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return {wait: "wait", cancel: "cancel"}.get(box.clickedButton(), "stay")

    def confirm(self, title: str, text: str) -> bool:
        """A yes/no question; True for yes."""
        return QMessageBox.question(self.parent, title, text) == QMessageBox.StandardButton.Yes

    def open_image(self, title: str, folder: str) -> str | None:
        """A photo or trimap to open, or None."""
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, IMAGE_FILTER)
        return path or None

    def save_png(self, title: str, start: str) -> str | None:
        """Where to save a PNG, or None."""
        path, _ = QFileDialog.getSaveFileName(self.parent, title, start, "PNG (*.png)")
        return path or None

    def colour(self, current: tuple[float, float, float]) -> tuple[float, float, float] | None:
        """An RGB colour in [0, 1], or None when cancelled."""
        c = QColorDialog.getColor(QColor.fromRgbF(*current), self.parent, "Choose colour")
        return (c.redF(), c.greenF(), c.blueF()) if c.isValid() else None
