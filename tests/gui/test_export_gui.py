"""Exporting from the editor: the files written, the dialog's choices, quality options, unwritable
folders, cancelling, and exports that keep what they started with."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from matting_gui.core.editing.trimap import FOREGROUND, UNKNOWN
from tests.conftest import make_photo
from tests.gui.driving import TIMEOUT, export_now, is_full, open_and_wait, stroke


def test_export_writes_matte_cutout_composite(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
    window.session.set_view(background="white")
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        export_now(window, out, matte=True, cutout=True, composite=True, composite_format="jpg", quality=90)
    names = sorted(p.name for p in blocker.args[0])
    assert names == ["x_composite.jpg", "x_cutout.png", "x_matte.png"]
    matte = np.asarray(Image.open(out / "x_matte.png"))
    assert matte.shape == (120, 160) and matte[60, 80] == 255 and matte[0, 0] == 0
    cut = np.asarray(Image.open(out / "x_cutout.png"))
    assert cut.shape == (120, 160, 4) and np.array_equal(cut[..., 3], matte)
    comp = np.asarray(Image.open(out / "x_composite.jpg"))
    assert comp[2, 2].min() > 240  # background replaced by white
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize("option", ["mirror", "refine", "fuse"])
def test_export_quality_options_reach_the_worker_and_change_the_matte(qtbot, window, photo, tmp_path, monkeypatch,
                                                                      option, fusion_model):
    open_and_wait(qtbot, window, photo)
    submitted = []
    export = window.service.export
    monkeypatch.setattr(window.service, "export", lambda job: (submitted.append(job), export(job)))
    for on in (True, False):
        with qtbot.waitSignal(window.exported, timeout=60000):
            export_now(window, tmp_path, f"x{on}", **{"mirror": False, "refine": False, "fuse": False,
                                                                   option: on})
    assert [getattr(j, option) for j in submitted] == [True, False]
    a, b = (np.asarray(Image.open(tmp_path / f"x{on}_matte.png")) for on in (True, False))
    assert a.shape == b.shape == (120, 160) and not np.array_equal(a, b)


def test_export_dialog_starts_from_the_given_choices_and_returns_them(qtbot, window):
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    choices = {"folder": "/tmp/x", "stem": "s", "matte": False, "cutout": False, "cutout_format": "webp",
               "composite": True, "composite_format": "jpg", "quality": 80, "model": "student", "mirror": False,
               "refine": True, "fuse": False}
    dlg = ExportDialog(window, choices, 16)
    qtbot.addWidget(dlg)
    assert dlg.options() == choices
    dlg.mirror.setChecked(True)
    assert dlg.options()["mirror"] and dlg.request().composite_format == "jpg"


def test_export_computes_its_matte_with_the_network_chosen_for_it(qtbot, window, photo, tmp_path, monkeypatch):
    """The dialog offers the teacher for the final matte (its default) whatever the editor shows live."""
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    dlg = ExportDialog(window, {})
    qtbot.addWidget(dlg)
    assert dlg.options()["model"] == "teacher"
    open_and_wait(qtbot, window, photo)
    assert window.session.model == "student"
    submitted = []
    export = window.service.export
    monkeypatch.setattr(window.service, "export", lambda job: (submitted.append(job.model), export(job)))
    for stem, model in (("shown", None), ("teacher", "teacher")):
        with qtbot.waitSignal(window.exported, timeout=60000):
            export_now(window, tmp_path, stem, model=model)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        window.session.set_model("teacher")
    with qtbot.waitSignal(window.exported, timeout=60000):
        export_now(window, tmp_path, "teacher_shown")
    assert submitted == ["student", "teacher", "teacher"]
    shown, teacher, teacher_shown = (np.asarray(Image.open(tmp_path / f"{s}_matte.png"))
                                     for s in ("shown", "teacher", "teacher_shown"))
    assert np.array_equal(teacher, teacher_shown) and not np.array_equal(shown, teacher)


def test_export_dialog_refuses_a_file_as_folder_and_remembers_choices(qtbot, window, photo, tmp_path, monkeypatch):
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    open_and_wait(qtbot, window, photo)
    dlg = ExportDialog(window, {"folder": str(photo)})
    qtbot.addWidget(dlg)
    dlg.accept()
    assert dlg.result() == 0 and "is a file" in dlg.problem.text()  # stays open, says why
    dlg.folder.setText(str(tmp_path / "new" / "folder"))
    assert dlg.folder_problem() is None  # missing folders are fine: export creates them

    def accept(self):  # the user ticks composite (jpg) and presses OK
        self.composite.setChecked(True)
        self.composite_format.setCurrentText("jpg")
        self.folder.setText(str(tmp_path / "new" / "folder"))
        return True

    monkeypatch.setattr(ExportDialog, "exec", accept)
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        window.actions["export"].trigger()
    assert (tmp_path / "new" / "folder" / "photo_composite.jpg") in blocker.args[0]
    seen = {}
    monkeypatch.setattr(ExportDialog, "exec", lambda self: seen.update(self.options()) or False)
    window.actions["export"].trigger()  # reopened: the last choices, not the defaults
    assert seen["composite"] and seen["composite_format"] == "jpg" and seen["folder"] == str(tmp_path / "new" / "folder")


def test_export_to_unwritable_folder_keeps_everything(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
    window.session.set_tool("unknown")
    stroke(qtbot, window, [(20, 20), (30, 20)])
    rev = window.session.doc.revision
    with qtbot.waitSignal(window.errorShown, timeout=60000) as blocker:
        export_now(window, photo / "not-a-folder")  # below a file: cannot be created
    assert "export failed" in blocker.args[0]
    assert window.session.doc.revision == rev and window.session.doc.dirty and window.session.matte.alpha is not None


def test_cancelled_export_writes_nothing(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.service.errored, timeout=TIMEOUT):  # the worker stops it: ExportCancelled
        export_now(window, out)
        window.status.export_cancel.click()  # the Cancel button of the export strip
    assert list(out.iterdir()) == [] and window.exports.job is None


def test_the_edges_panel_decontaminate_box_drives_view_and_export(qtbot, window, photo, tmp_path):
    """The box in the Edges panel and the View-menu action are one setting, and export honours it:
    off, the cutout carries the photo's own colours; on, colours estimated for the foreground."""
    open_and_wait(qtbot, window, photo)
    window.panel.decontaminate.setChecked(False)
    assert not window.session.decontaminate and not window.actions["decontaminate"].isChecked()
    with qtbot.waitSignal(window.exported, timeout=60000):
        export_now(window, tmp_path, "raw", matte=False, cutout=True)
    raw = np.asarray(Image.open(tmp_path / "raw_cutout.png"))
    original = np.asarray(Image.open(photo).convert("RGB"))
    assert np.abs(raw[..., :3].astype(int) - original).max() <= 1
    window.actions["decontaminate"].trigger()  # the menu action, the other way in
    assert window.session.decontaminate and window.panel.decontaminate.isChecked()
    with qtbot.waitSignal(window.exported, timeout=60000):
        export_now(window, tmp_path, "clean", matte=False, cutout=True)
    clean = np.asarray(Image.open(tmp_path / "clean_cutout.png"))
    soft = (clean[..., 3] > 0) & (clean[..., 3] < 255)
    assert soft.any() and np.abs(clean[..., :3].astype(int) - original)[soft].max() > 1


def test_saving_the_sample_never_touches_the_bundled_files(qtbot, window, monkeypatch, tmp_path):
    """The sample's trimap is saved to the user's data folder, and the sample reopens with it; the
    installed resources stay as shipped (issue 16, defect 8)."""
    from matting_gui.core.files.imageio import read_trimap
    from matting_gui.gui.controllers.document import SAMPLE_TRIMAP

    shipped = SAMPLE_TRIMAP.read_bytes()
    with qtbot.waitSignal(window.matteShown, timeout=60000):
        window.open_sample()
    assert "sample comes with its trimap painted" in window.canvas.hint  # the first-step hint would never show
    window.session.doc.begin_stroke(UNKNOWN)
    window.session.doc.paint_segment(10, 10, 40, 10, 6)
    window.session.doc.end_stroke()
    assert window.canvas.hint == ""  # edited: the hint has said its piece
    edited = window.session.doc.trimap.copy()
    assert window.documents.save_trimap()
    assert SAMPLE_TRIMAP.read_bytes() == shipped
    saved = Path(os.environ["MATTING_USER_DATA"]) / "samples" / SAMPLE_TRIMAP.name
    assert np.array_equal(read_trimap(saved), edited)
    with qtbot.waitSignal(window.matteShown, timeout=60000):
        window.open_sample()
    assert np.array_equal(window.session.doc.trimap, edited) and window.canvas.hint == ""  # the user's own trimap


def test_an_export_uses_what_it_started_with_whatever_happens_meanwhile(qtbot, window, photo, tmp_path):
    """Issue 16, defect 6: an undo and opening another photo while an export runs neither replace nor
    cut it; it writes the photo, trimap and settings it was started with."""
    open_and_wait(qtbot, window, photo)
    window.session.set_tool("unknown")
    stroke(qtbot, window, [(70, 60), (90, 60)])
    expected = window.session.doc.trimap.copy()
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(50, 40, seed=4) * 255).astype(np.uint8)).save(other)
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        export_now(window, out, "first")
        window.actions["undo"].trigger()
        window.prompter.choice = "discard"
        window.open_photo(other)
    assert [p.name for p in blocker.args[0]] == ["first_matte.png"]
    matte = np.asarray(Image.open(out / "first_matte.png"))
    assert matte.shape == (120, 160)  # the photo it started with, not the one opened meanwhile
    assert matte[60, 80] < 255 and np.all(matte[expected == FOREGROUND] == 255)  # with the stroke undone later
    assert window.exports.job is None and window.session.photo.path == other


@pytest.fixture
def held_export(monkeypatch):
    """Exports wait (in the worker) after computing the matte until ``release`` is set: long enough to
    act while one runs. The cancellation check that follows still sees a Cancel."""
    import threading

    import matting_gui.gui.worker as worker

    release = threading.Event()
    real = worker.apply_adjustments

    def held(alpha, adjust):
        release.wait(TIMEOUT / 1000)
        return real(alpha, adjust)

    monkeypatch.setattr(worker, "apply_adjustments", held)
    yield release
    release.set()


def test_export_progress_shows_at_once_in_the_window_and_editing_goes_on(qtbot, window, photo, tmp_path,
                                                                         held_export):
    """The progress dialog came 4–9 s after OK, was modal, and hid the unsaved-trimap prompt; Undo did nothing."""
    from PySide6.QtWidgets import QApplication

    open_and_wait(qtbot, window, photo)
    window.session.set_tool("unknown")
    stroke(qtbot, window, [(70, 60), (90, 60)])
    assert export_now(window, tmp_path / "out", "snap") is not None
    assert window.status.export_strip.isVisible() and "Exporting photo.png" in window.status.export_label.text()
    assert QApplication.activeModalWidget() is None  # nothing modal: the editor takes input
    window.actions["undo"].trigger()
    assert not window.session.doc.can_undo()  # undone while the export runs
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        held_export.set()
    assert not window.status.export_strip.isVisible()
    assert (tmp_path / "out" / "snap_matte.png").exists()


@pytest.mark.parametrize("choice", ["stay", "wait", "cancel"])
def test_closing_during_an_export_asks_whether_to_wait_or_cancel(qtbot, window, photo, tmp_path, held_export,
                                                                 choice):
    open_and_wait(qtbot, window, photo)
    out = tmp_path / "out"
    export_now(window, out, "x")
    window.prompter.export_choice = choice
    assert not window.close() if choice != "cancel" else window.close()
    assert "Export running" in window.prompter.asked
    if choice == "stay":
        assert window.isVisible() and window.exports.job is not None
        with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
            held_export.set()
        assert window.isVisible()
    elif choice == "wait":
        assert window.isVisible()
        with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
            held_export.set()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)  # closed once the files were written
        assert (out / "x_matte.png").exists()
    else:
        assert not window.isVisible() and not (out / "x_matte.png").exists()  # cancelled: nothing written


def test_export_dialog_checks_names_and_folder_when_ok_is_pressed(qtbot, window, photo, tmp_path, monkeypatch):
    """An unwritable destination was reported only after the whole computation (36 s at 24 MP)."""
    import matting_gui.core.files.outputs as outputs
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    open_and_wait(qtbot, window, photo)
    dlg = ExportDialog(window, {"folder": str(tmp_path), "stem": "a/b"})
    qtbot.addWidget(dlg)
    dlg.accept()
    assert dlg.result() == 0 and "is not a file name" in dlg.problem.text()
    dlg.stem.setText("taken")
    (tmp_path / "taken_matte.png").mkdir()
    dlg.accept()
    assert dlg.result() == 0 and "taken_matte.png is a folder" in dlg.problem.text()
    dlg.stem.setText("fine")

    def read_only(*args, **kwargs):  # what a read-only volume or a folder without write permission answers
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "TemporaryFile", read_only)
    dlg.accept()
    assert dlg.result() == 0 and "cannot write in" in dlg.problem.text() and "Permission denied" in dlg.problem.text()
    monkeypatch.undo()
    dlg.accept()
    assert dlg.result() == 1


def test_export_dialog_describes_the_installed_fusion_rule(qtbot, models):
    """The solver-fusion option names what the installed fusion card's rule does, and whether it is on by
    default: an untrained median reads as a median, not as a fusion network's weighing."""
    from matting_gui.core.nets.model_files import EXPORT_STEPS
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    card = models / "fusion.json"
    try:
        card.write_text('{"export_rule": "median_solvers"}')
        dlg = ExportDialog(None, {})
        qtbot.addWidget(dlg)
        assert "median of the network's, the closed-form and the KNN matte" in dlg.fuse.toolTip()
        assert "fusion network" not in dlg.fuse.text() + dlg.fuse.toolTip()
        assert ("On by default" if EXPORT_STEPS["fuse"] else "Off by default") in dlg.fuse.toolTip()
    finally:
        card.unlink()
