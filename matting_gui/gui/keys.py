"""Keys that must reach the canvas and the single-key shortcuts whatever widget has the focus.

- Space held: pan with the left button (the canvas), also when a panel widget has the focus.
- Single-key shortcuts (tools T/F/B/U/E/G, views, brackets, backslash) work while a spin box has
  the focus: a spin box takes digits (that is typing a number), not letters or brackets.
- Esc in a spin box gives the focus back to the canvas.
Text fields (line edits outside spin boxes, e.g. in dialogs) keep every key.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget

from matting_gui.gui.widgets.canvas import Canvas


def _spin_box(widget: QWidget | None) -> QAbstractSpinBox | None:
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return widget
        widget = widget.parentWidget()
    return None


KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)


class KeyRouter(QObject):
    """An event filter on every widget of ``window`` that can take the keyboard focus (the window
    itself included); dialogs are other windows and keep their keys. Create it once the window's
    widgets exist."""

    def __init__(self, window: QWidget, canvas: Canvas):
        super().__init__(window)
        self.window, self.canvas = window, canvas
        for widget in [window, *window.findChildren(QWidget)]:
            if widget is window or widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind not in KEY_EVENTS:
            return False
        key, plain = event.key(), event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        spin = _spin_box(obj)
        typing = isinstance(obj, QLineEdit) and spin is None
        if key == Qt.Key.Key_Space and not typing and kind != QEvent.Type.ShortcutOverride:
            if not event.isAutoRepeat():
                self.canvas.set_space_held(kind == QEvent.Type.KeyPress)
            return True  # never "clicks" a focused button or types a space into a spin box
        if key == Qt.Key.Key_Escape and kind == QEvent.Type.KeyPress and not typing and self.canvas.cancel_box():
            return True  # a Select-subject box being dragged: dropped, nothing selected
        if spin is not None and plain:
            if key == Qt.Key.Key_Escape and kind == QEvent.Type.KeyPress:
                self.canvas.setFocus()
                return True
            text = event.text()
            if kind == QEvent.Type.ShortcutOverride and text and text.isprintable() and not text.isdigit():
                return True  # not the spin box's: the shortcut fires
        return False
