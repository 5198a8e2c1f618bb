"""The two toolbars: painting (tools, brush, auto band, undo) and matte (model, device, refine
edges, view, background, before/after, export). Controls write the session; its events set the controls."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QSpinBox, QToolBar

from matting_gui.core.editing.session import MAX_BRUSH, MIN_BRUSH, EditorSession
from matting_gui.core.editing.view import VIEW_MODES
from matting_gui.core.imaging.compose import BACKGROUND_KINDS
from matting_gui.core.nets.model_files import INSTALLED_MODELS


class Toolbars:
    """Adds the toolbars to ``window`` and keeps them in step with ``session``."""

    def __init__(self, window: QMainWindow, session: EditorSession, actions: dict[str, QAction], band_radius: int,
                 devices: list[tuple[str, str]]):
        self.session = session
        tb = window.addToolBar("Tools")
        tb.setObjectName("tools")
        for name, act in actions.items():
            if name.startswith("tool:"):
                tb.addAction(act)
        tb.addSeparator()
        tb.addWidget(QLabel(" Brush radius "))  # a radius: the stroke is twice as wide
        self.brush = QSpinBox(minimum=int(MIN_BRUSH), maximum=int(MAX_BRUSH), suffix=" px")
        self.brush.setToolTip("Brush radius ([ and ])")
        self.brush.valueChanged.connect(lambda v: session.set_brush_radius(v))
        tb.addWidget(self.brush)
        tb.addSeparator()
        tb.addAction(actions["auto_band"])
        self.band = QSpinBox(minimum=1, maximum=500, suffix=" px", value=band_radius)
        self.band.setToolTip("Width of the unknown band made by Auto band")
        tb.addWidget(self.band)
        for spin in (self.brush, self.band):  # Enter: back to painting, where the single-key shortcuts live
            spin.editingFinished.connect(window.centralWidget().setFocus)
        tb.addAction(actions["undo"])
        tb.addAction(actions["redo"])
        window.addToolBarBreak()
        tb = QToolBar("Matte", window)
        tb.setObjectName("matte")
        window.addToolBar(tb)
        tb.addWidget(QLabel(" Model "))
        self.model = QComboBox()
        self.model.addItems(list(INSTALLED_MODELS))
        self.model.setToolTip("Student: fast, for live work. Teacher: slower, best quality.")
        self.model.textActivated.connect(lambda name: session.set_model(name))
        tb.addWidget(self.model)
        self.device = QComboBox()
        self.add_devices(devices)
        self.device.activated.connect(lambda i: session.set_model(session.model, self.device.itemData(i)))
        tb.addWidget(self.device)
        tb.addAction(actions["refine"])
        tb.addSeparator()
        tb.addWidget(QLabel(" View "))
        self.view = QComboBox()
        self.view.addItems(list(VIEW_MODES))
        self.view.setToolTip("Trimap (T), alpha (A), composite (C), photo (P); \\ toggles before/after")
        self.view.textActivated.connect(lambda mode: session.set_view(mode=mode))
        tb.addWidget(self.view)
        self.background = QComboBox()
        self.background.addItems(list(BACKGROUND_KINDS))
        self.background.setToolTip("Background of the composite view and the exported composite")
        tb.addWidget(self.background)
        tb.addAction(actions["before"])
        tb.addAction(actions["export"])
        session.tool_changed.connect(self.show_state)
        session.model_changed.connect(self.show_state)
        session.view_changed.connect(self.show_state)
        self.show_state()

    def add_devices(self, devices: list[tuple[str, str]]) -> None:
        """Offer each (label, torch device) not offered yet (a GPU is found once torch has loaded)."""
        for label, key in devices:
            if self.device.findData(key) < 0:
                self.device.addItem(label, key)

    def show_state(self) -> None:
        """Set every control from the session, without echoing back."""
        s = self.session
        for widget, setter in ((self.brush, lambda: self.brush.setValue(round(s.brush_radius))),
                               (self.model, lambda: self.model.setCurrentText(s.model)),
                               (self.device, lambda: self.device.setCurrentIndex(max(0, self.device.findData(s.device)))),
                               (self.view, lambda: self.view.setCurrentText(s.view_mode)),
                               (self.background, lambda: self.background.setCurrentText(s.style.background))):
            with QSignalBlocker(widget):
                setter()
