"""The export dialog: which files, which formats, which folder; it starts from the last choices."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from matting_gui.core.files.outputs import COMPOSITE_FORMATS, CUTOUT_FORMATS, OutputRequest, destination_problem
from matting_gui.core.inference.export_rules import installed_rule_text
from matting_gui.core.nets.model_files import EXPORT_STEPS, FINAL_MODEL, INSTALLED_MODELS

#: What each network is for, as the dialog names it; the export's default is FINAL_MODEL.
MODEL_LABELS = {"teacher": "Teacher: final quality (several times slower)", "student": "Student: as the live preview"}


class ExportDialog(QDialog):
    """Choose folder, name and which of matte, cutout and composite to write. ``choices``: the
    initial state, keys as ``options()`` returns them (missing keys: defaults)."""

    def __init__(self, parent: QWidget, choices: dict, bit_depth: int = 8):
        super().__init__(parent)
        self.setWindowTitle("Export")
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.folder = QLineEdit(str(choices.get("folder", Path.home())))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder)
        row.addWidget(browse)
        form.addRow("Folder", row)
        self.stem = QLineEdit(choices.get("stem", "export"))
        form.addRow("File name", self.stem)
        self.matte = QCheckBox(f"Matte ({bit_depth}-bit gray PNG)", checked=choices.get("matte", True))
        form.addRow(self.matte)
        self.cutout = QCheckBox("Cutout (RGBA, straight alpha)", checked=choices.get("cutout", True))
        self.cutout_format = QComboBox()
        self.cutout_format.addItems(list(CUTOUT_FORMATS))
        self.cutout_format.setCurrentText(choices.get("cutout_format", "png"))
        form.addRow(self.cutout, self.cutout_format)
        self.composite = QCheckBox("Composite over the chosen background", checked=choices.get("composite", False))
        self.composite_format = QComboBox()
        self.composite_format.addItems(list(COMPOSITE_FORMATS))
        self.composite_format.setCurrentText(choices.get("composite_format", "png"))
        form.addRow(self.composite, self.composite_format)
        self.quality = QSpinBox(minimum=1, maximum=100, value=int(choices.get("quality", 92)))
        form.addRow("JPEG quality", self.quality)
        self.model = QComboBox()
        for name in INSTALLED_MODELS:
            self.model.addItem(MODEL_LABELS.get(name, name), name)
        self.model.setCurrentIndex(max(0, self.model.findData(choices.get("model", FINAL_MODEL))))
        self.model.setToolTip("The network that computes the exported matte, whichever one the editor shows live:\n"
                              "the teacher is the more accurate (README, Results), the student the faster")
        form.addRow("Network", self.model)
        self.mirror = QCheckBox("Best quality: average with the mirrored photo's matte (2× time)",
                                checked=choices.get("mirror", True))
        self.mirror.setToolTip("Runs the network on the photo and its mirror image and averages the two mattes;\n"
                               "lower error on the validation photos (README, Results)")
        form.addRow(self.mirror)
        self.refine = QCheckBox("Refine edges with the photo's colours (closed-form matting, seconds)",
                                checked=choices.get("refine", True))
        self.refine.setToolTip("Keeps what the network is sure of and solves closed-form matting where it is unsure\n"
                               "(along the subject's edge): there the photo's local colours decide.\n"
                               "See the README's Results for what it changes on the validation photos.")
        form.addRow(self.refine)
        self.fuse = QCheckBox("Solver fusion: combine with closed-form and KNN matting (seconds)",
                              checked=choices.get("fuse", False))
        default = "On" if EXPORT_STEPS["fuse"] else "Off"
        self.fuse.setToolTip(f"Computes the closed-form and KNN mattes of the unknown region, then: "
                             f"{installed_rule_text()}.\n"
                             f"{default} by default, as decided by subject-disjoint cross-validation (docs/fusion.md).")
        form.addRow(self.fuse)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #c0392b")
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def folder_problem(self) -> str | None:
        """Why the files cannot be written where the dialog says (``outputs.destination_problem``: a bad
        name, a folder that is a file or refuses new files, an output name taken by a folder), or None.
        A folder that does not exist yet is fine: export creates it."""
        if not self.folder.text().strip():
            return "choose a folder"
        o = self.options()
        return destination_problem(Path(o["folder"]), self.stem.text().strip() or "export", self.request())

    def accept(self) -> None:  # noqa: D102 - QDialog API: refuses an unusable destination at once, with the reason
        problem = self.folder_problem()
        if problem:
            self.problem.setText(problem)
            return
        super().accept()

    def options(self) -> dict:
        """The choices: folder, stem, matte, cutout, cutout_format, composite, composite_format,
        quality, model, mirror, refine, fuse."""
        return {
            "folder": str(Path(self.folder.text()).expanduser()),
            "stem": self.stem.text().strip() or "export",
            "matte": self.matte.isChecked(),
            "cutout": self.cutout.isChecked(),
            "cutout_format": self.cutout_format.currentText(),
            "composite": self.composite.isChecked(),
            "composite_format": self.composite_format.currentText(),
            "quality": self.quality.value(),
            "model": self.model.currentData(),
            "mirror": self.mirror.isChecked(),
            "refine": self.refine.isChecked(),
            "fuse": self.fuse.isChecked(),
        }

    def request(self) -> OutputRequest:
        """The chosen files as an ``OutputRequest``."""
        o = self.options()
        return OutputRequest(o["matte"], o["cutout"], o["composite"], o["cutout_format"], o["composite_format"],
                             o["quality"])


def ask_export(parent: QWidget, session, settings) -> tuple | None:
    """Show the dialog for the session's photo, starting from the choices remembered in ``settings``
    (typed ``Settings``); remember the new ones. Returns (folder, stem, request, mirror, refine, model, fuse) or None."""
    photo, st = session.photo, settings
    if photo is None:
        return None
    choices = {"folder": st.export_folder or str(photo.path.parent if photo.path else Path.home()),
               "stem": photo.path.stem if photo.path else "pasted", "mirror": st.export_mirror,
               "model": st.export_model if st.export_model in INSTALLED_MODELS else FINAL_MODEL,
               "refine": st.export_refine, "fuse": st.export_fuse, "cutout": st.export_cutout, "composite": st.export_composite,
               "cutout_format": st.export_cutout_format, "composite_format": st.export_composite_format}
    dlg = ExportDialog(parent, choices, photo.image.bit_depth)
    if not dlg.exec():
        return None
    o = dlg.options()
    st.export_folder, st.export_mirror, st.export_refine = o["folder"], o["mirror"], o["refine"]
    st.export_model, st.export_fuse = o["model"], o["fuse"]
    st.export_cutout, st.export_composite = o["cutout"], o["composite"]
    st.export_cutout_format, st.export_composite_format = o["cutout_format"], o["composite_format"]
    return Path(o["folder"]), o["stem"], dlg.request(), o["mirror"], o["refine"], o["model"], o["fuse"]
