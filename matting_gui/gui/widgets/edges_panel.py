"""The Edges and view panel: edge adjustment sliders (with their values), decontamination, overlay
opacity and colours. Each control writes the session; the session's events set the controls."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from matting_gui.core.editing.session import EditorSession
from matting_gui.core.files.imageio import ImageError, read_image
from matting_gui.core.imaging.adjust import EdgeAdjustments
from matting_gui.gui.prompter import Prompter

SLIDERS = {  # adjustment: (label, minimum, maximum)
    "smooth": ("Smooth", 0, 10),
    "feather": ("Feather (px)", 0, 20),
    "contrast": ("Contrast (%)", 0, 100),
    "shift": ("Shift edge (%)", -100, 100),
}
COLOURS = {"fg_colour": "Foreground colour", "bg_colour": "Background colour", "unknown_colour": "Unknown colour",
           "background_colour": "Composite colour"}


class EdgesPanel(QWidget):
    """Binds to ``session``; ``error`` reports a composite picture that cannot be read."""

    error = Signal(str)

    def __init__(self, session: EditorSession, prompter: Prompter, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.prompter = session, prompter
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        for key, (label, lo, hi) in SLIDERS.items():
            slider = QSlider(Qt.Orientation.Horizontal, minimum=lo, maximum=hi)
            slider.setToolTip(label)
            value = QLabel("0", minimumWidth=32)
            slider.valueChanged.connect(lambda v, k=key: session.set_adjustment(k, v))
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(value)
            form.addRow(label, row)
            self.sliders[key], self.values[key] = slider, value
        lay.addLayout(form)
        reset = QPushButton("Reset to raw matte")
        reset.clicked.connect(lambda: session.set_adjustments(EdgeAdjustments()))
        lay.addWidget(reset)
        self.decontaminate = QCheckBox("Decontaminate colours", checked=session.decontaminate)
        self.decontaminate.toggled.connect(lambda on: session.set_view(decontaminate=on))
        lay.addWidget(self.decontaminate)
        form2 = QFormLayout()
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100)
        self.opacity.setValue(round(session.style.opacity * 100))
        self.opacity.valueChanged.connect(lambda v: session.set_view(opacity=v / 100.0))
        form2.addRow("Overlay opacity", self.opacity)
        self.overlay = QComboBox()
        self.overlay.addItems(["fill", "outline"])
        self.overlay.setToolTip("Trimap view: tint the regions, or outline them over the photo's true colours")
        self.overlay.textActivated.connect(lambda kind: session.set_view(overlay=kind))
        form2.addRow("Overlay", self.overlay)
        for key, label in COLOURS.items():
            button = QPushButton("Choose…")
            button.clicked.connect(lambda checked=False, k=key: self._choose_colour(k))
            form2.addRow(label, button)
        picture = QPushButton("Choose…")
        picture.clicked.connect(self.choose_background_image)
        form2.addRow("Composite image", picture)
        lay.addLayout(form2)
        lay.addStretch(1)
        session.adjust_changed.connect(self._show_adjustments)
        session.photo_opened.connect(self._show_adjustments)
        session.view_changed.connect(self._show_view)
        self._show_adjustments()

    def set_background_kind(self, kind: str) -> None:
        """Composite over ``kind``; "image" without a picture yet asks for one first."""
        if kind == "image" and self.session.background_picture is None:
            self.choose_background_image()
        else:
            self.session.set_view(background=kind)

    def choose_background_image(self) -> None:
        """Ask for a picture to composite over."""
        path = self.prompter.open_image("Background image", "")
        if path:
            self.set_background_image(path)

    def set_background_image(self, path: str | Path) -> bool:
        """Composite over the picture at ``path``; False (and ``error``) when it cannot be read."""
        try:
            self.session.set_background_picture(read_image(path).rgb)
        except ImageError as exc:
            self.error.emit(str(exc))
            return False
        return True

    def _choose_colour(self, key: str) -> None:
        colour = self.prompter.colour(getattr(self.session.style, key))
        if colour is not None:
            self.session.set_view(**{key: colour})

    def _show_adjustments(self) -> None:
        for key, slider in self.sliders.items():
            value = int(getattr(self.session.adjust, key))
            with QSignalBlocker(slider):
                slider.setValue(value)
            self.values[key].setText(str(value))

    def _show_view(self) -> None:
        with QSignalBlocker(self.decontaminate):
            self.decontaminate.setChecked(self.session.decontaminate)
        with QSignalBlocker(self.opacity):
            self.opacity.setValue(round(self.session.style.opacity * 100))
        with QSignalBlocker(self.overlay):
            self.overlay.setCurrentText(self.session.style.overlay)
