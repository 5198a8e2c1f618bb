"""Keys that must reach the canvas and the single-key shortcuts whatever widget has the focus.

- Space held: pan with the left button (the canvas), also when a panel widget has the focus.
- Single-key shortcuts (tools T/F/B/U/E/G, views, brackets, backslash) work while a spin box has
  the focus: a spin box takes digits (that is typing a number), not letters or brackets.
- Esc in a spin box gives the focus back to the canvas.
Text fields (line edits outside spin boxes, e.g. in dialogs) keep every key.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QWidget

from .widgets.canvas import Canvas


def _spin_box(widget: QWidget | None) -> QAbstractSpinBox | None:
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return widget
        widget = widget.parentWidget()
    return None


class KeyRouter(QObject):
    """An application event filter for the keys of ``window`` (only events of widgets inside it)."""

    def __init__(self, window: QWidget, canvas: Canvas):
        super().__init__(window)
        self.window, self.canvas = window, canvas
        QApplication.instance().installEventFilter(self)
        window.destroyed.connect(lambda: QApplication.instance().removeEventFilter(self))

    def _mine(self, obj) -> bool:
        return isinstance(obj, QWidget) and obj.window() is self.window

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride) or not self._mine(obj):
            return False
        key, plain = event.key(), event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        spin = _spin_box(obj)
        typing = isinstance(obj, QLineEdit) and spin is None
        if key == Qt.Key.Key_Space and not typing and kind != QEvent.Type.ShortcutOverride:
            if not event.isAutoRepeat():
                self.canvas.set_space_held(kind == QEvent.Type.KeyPress)
            return True  # never "clicks" a focused button or types a space into a spin box
        if spin is not None and plain:
            if key == Qt.Key.Key_Escape and kind == QEvent.Type.KeyPress:
                self.canvas.setFocus()
                return True
            text = event.text()
            if kind == QEvent.Type.ShortcutOverride and text and text.isprintable() and not text.isdigit():
                return True  # not the spin box's: the shortcut fires
        return False
