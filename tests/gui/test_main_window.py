"""The editor, driven like a user would: offscreen, with simulated mouse and keys."""

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from matting_gui.core.adjust import EdgeAdjustments
from matting_gui.core.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from tests.conftest import make_photo, make_trimap

TIMEOUT = 20000


def _full(res):
    return not res.job.stamp.preview


def _open(qtbot, window, path, trimap=None):
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full) as blocker:
        assert window.open_photo(path, trimap)
    return blocker.args[0]


def _export(window, folder, stem="x", mirror=False, refine=False, **files):
    """Export as the dialog would: files = matte, cutout, composite, formats, quality."""
    from matting_gui.core.outputs import OutputRequest

    return window.matte.export(folder, stem, OutputRequest(**files), mirror=mirror, refine=refine)


def _widget_point(window, x, y) -> QPoint:
    c = window.canvas
    return QPoint(int(c.offset.x() + x * c.zoom), int(c.offset.y() + y * c.zoom))


def _stroke(qtbot, window, points):
    c = window.canvas
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(c, _widget_point(window, *p))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, *points[-1]))


def test_open_loads_sidecar_trimap_and_shows_matte(qtbot, window, photo):
    res = _open(qtbot, window, photo)
    assert window.session.doc.trimap[60, 80] == FOREGROUND and window.session.trimap_path.name == "photo_trimap.png"
    assert res.result.alpha.shape == (120, 160)
    assert window.session.matte.alpha[60, 80] == 1.0 and window.session.matte.alpha[0, 0] == 0.0
    assert "photo.png" in window.windowTitle() and "*" not in window.windowTitle()
    assert window.status.model_label.text().startswith("student")


def test_paint_stroke_changes_matte_where_painted_then_undo_redo(qtbot, window, photo):
    _open(qtbot, window, photo)
    before = window.session.matte.alpha.copy()
    window.session.set_tool("unknown")
    window.session.set_brush_radius(6)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        _stroke(qtbot, window, [(70, 60), (80, 60), (90, 60)])
    assert window.session.doc.trimap[60, 80] == UNKNOWN
    assert window.session.matte.alpha[60, 80] != before[60, 80]  # was forced to 1, now the network's estimate
    assert np.array_equal(window.session.matte.alpha[0:10, 0:10], before[0:10, 0:10])  # untouched far away
    assert window.windowTitle().startswith("photo.png*")
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.doc.trimap[60, 80] == FOREGROUND and window.session.matte.alpha[60, 80] == 1.0
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.session.doc.trimap[60, 80] == UNKNOWN


def test_brush_keys_and_tool_shortcuts(qtbot, window, photo):
    _open(qtbot, window, photo)
    qtbot.keyClick(window, Qt.Key.Key_B)
    assert window.session.tool == "background"
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert window.session.tool == "foreground"
    r = window.canvas.brush_radius
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.canvas.brush_radius > r
    assert "(B, 2)" in window.actions["tool:background"].toolTip()


def test_fifty_rapid_edits_never_show_a_stale_matte(qtbot, window, photo, monkeypatch):
    _open(qtbot, window, photo)
    shown = []
    window.matteShown.connect(lambda r: shown.append((r.job.stamp.revision, window.session.doc.revision)))
    gate = threading.Event()
    pool = window.service.predictors
    original = pool.get

    def slow_get(model, device):  # hold the worker so requests pile up
        gate.wait(10)
        return original(model, device)

    monkeypatch.setattr(pool, "get", slow_get)
    window.session.set_tool("unknown")
    window.session.set_brush_radius(2)
    for i in range(50):
        window.session.doc.begin_stroke(UNKNOWN if i % 2 else BACKGROUND)
        window.session.doc.paint_segment(10 + i, 5, 10 + i, 8, 2)
        window.session.doc.end_stroke()
        window.matte.request()
    gate.set()
    final_rev = window.session.doc.revision
    qtbot.waitUntil(lambda: window.session.matte_is_current and window.session.matte.stamp.revision == final_rev,
                    timeout=TIMEOUT)
    assert all(job_rev == doc_rev for job_rev, doc_rev in shown)  # every shown matte was current
    assert window.service.superseded >= 40  # piled-up requests were replaced, not run


def test_worker_error_is_reported_and_app_recovers(qtbot, window, photo, monkeypatch):
    _open(qtbot, window, photo)
    kept = window.session.matte.alpha.copy()
    pool = window.service.predictors
    for failure, message in ((RuntimeError("simulated failure in the worker"), "simulated failure"),
                             (MemoryError(), "out of memory")):
        monkeypatch.setattr(pool, "get", lambda model, device, f=failure: (_ for _ in ()).throw(f))
        with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
            window.matte.request()
        assert message in blocker.args[0]
        assert np.array_equal(window.session.matte.alpha, kept)  # previous matte stays
    monkeypatch.undo()
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        window.matte.request()


def test_model_switch_reruns_with_teacher(qtbot, window, photo):
    _open(qtbot, window, photo)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full) as blocker:
        window.toolbars.model.textActivated.emit("teacher")  # what choosing it in the combo box does
    assert blocker.args[0].result.model_name == "teacher" and window.actions["model:teacher"].isChecked()
    assert window.status.model_label.text().startswith("teacher")
    assert window.settings.model == "teacher"


def test_export_writes_matte_cutout_composite(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    window.session.set_view(background="white")
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        _export(window, out, matte=True, cutout=True, composite=True, composite_format="jpg", quality=90)
    names = sorted(p.name for p in blocker.args[0])
    assert names == ["x_composite.jpg", "x_cutout.png", "x_matte.png"]
    matte = np.asarray(Image.open(out / "x_matte.png"))
    assert matte.shape == (120, 160) and matte[60, 80] == 255 and matte[0, 0] == 0
    cut = np.asarray(Image.open(out / "x_cutout.png"))
    assert cut.shape == (120, 160, 4) and np.array_equal(cut[..., 3], matte)
    comp = np.asarray(Image.open(out / "x_composite.jpg"))
    assert comp[2, 2].min() > 240  # background replaced by white
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize("option", ["mirror", "refine"])
def test_export_quality_options_reach_the_worker_and_change_the_matte(qtbot, window, photo, tmp_path, monkeypatch,
                                                                      option):
    _open(qtbot, window, photo)
    submitted = []
    export = window.service.export
    monkeypatch.setattr(window.service, "export", lambda job: (submitted.append(job), export(job)))
    for on in (True, False):
        with qtbot.waitSignal(window.exported, timeout=60000):
            _export(window, tmp_path, f"x{on}", **{"mirror": False, "refine": False, option: on})
    assert [getattr(j, option) for j in submitted] == [True, False]
    a, b = (np.asarray(Image.open(tmp_path / f"x{on}_matte.png")) for on in (True, False))
    assert a.shape == b.shape == (120, 160) and not np.array_equal(a, b)


def test_export_dialog_starts_from_the_given_choices_and_returns_them(qtbot, window):
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    choices = {"folder": "/tmp/x", "stem": "s", "matte": False, "cutout": False, "cutout_format": "webp",
               "composite": True, "composite_format": "jpg", "quality": 80, "mirror": False, "refine": True}
    dlg = ExportDialog(window, choices, 16)
    qtbot.addWidget(dlg)
    assert dlg.options() == choices
    dlg.mirror.setChecked(True)
    assert dlg.options()["mirror"] and dlg.request().composite_format == "jpg"


def test_export_dialog_refuses_a_file_as_folder_and_remembers_choices(qtbot, window, photo, tmp_path, monkeypatch):
    from matting_gui.gui.widgets.export_dialog import ExportDialog

    _open(qtbot, window, photo)
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
    _open(qtbot, window, photo)
    window.session.set_tool("unknown")
    _stroke(qtbot, window, [(20, 20), (30, 20)])
    rev = window.session.doc.revision
    with qtbot.waitSignal(window.errorShown, timeout=60000) as blocker:
        _export(window, photo / "not-a-folder")  # below a file: cannot be created
    assert "export failed" in blocker.args[0]
    assert window.session.doc.revision == rev and window.session.doc.dirty and window.session.matte.alpha is not None


def test_unsaved_changes_prompt(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    window.session.set_tool("background")
    _stroke(qtbot, window, [(80, 60), (82, 60)])
    assert window.session.doc.dirty
    window.prompter.choice = "cancel"
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(50, 50, seed=5) * 255).astype(np.uint8)).save(other)
    assert not window.open_photo(other)  # cancelled: nothing lost
    assert window.prompter.asked and window.session.photo.path.name == "photo.png" and window.session.doc.dirty
    window.prompter.choice = "save"
    assert window.open_photo(other)
    saved = np.asarray(Image.open(tmp_path / "photo_trimap.png"))
    assert saved[60, 81] == BACKGROUND  # the stroke was saved before switching


def test_close_with_unsaved_changes_can_be_cancelled(qtbot, window, photo):
    _open(qtbot, window, photo)
    window.session.set_tool("background")
    _stroke(qtbot, window, [(80, 60), (82, 60)])
    window.prompter.choice = "cancel"
    assert not window.close()
    assert window.isVisible()


def test_bad_file_shows_error_and_keeps_document(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        assert not window.open_photo(bad)
    assert "not a supported image format" in blocker.args[0]
    assert window.session.photo.path == photo and window.session.photo.rgb is not None
    wrong = tmp_path / "wrong_trimap.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(wrong)
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        assert not window.documents.load_trimap(wrong)
    assert "does not match" in blocker.args[0]


def test_auto_band_and_fill(qtbot, window, tmp_path):
    p = tmp_path / "plain.png"
    Image.fromarray((make_photo(100, 100) * 255).astype(np.uint8)).save(p)
    window.open_photo(p)
    assert (window.session.doc.trimap == BACKGROUND).all()  # a new photo starts all background
    window.toolbars.band.setValue(5)
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        window.auto_band()  # nothing painted yet → a clear message, no crash (computed in a thread)
    assert "foreground first" in blocker.args[0]
    window.session.set_tool("foreground")
    window.session.set_brush_radius(20)
    _stroke(qtbot, window, [(50, 50), (51, 50)])
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        window.auto_band()
    tri = window.session.doc.trimap
    assert tri[50, 50] == FOREGROUND and tri[50, 71] == UNKNOWN and tri[0, 0] == BACKGROUND
    window.session.set_tool("fill")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_widget_point(window, 2, 2))
    assert window.session.doc.trimap[2, 2] == FOREGROUND  # the outer background region was filled
    window.actions["undo"].trigger()
    assert window.session.doc.trimap[2, 2] == BACKGROUND


def test_view_modes_and_before_after(qtbot, window, photo):
    _open(qtbot, window, photo)
    from matting_gui.gui.convert import qimage_to_rgb

    shots = {}
    for key, mode in ((Qt.Key.Key_A, "alpha"), (Qt.Key.Key_C, "composite"), (Qt.Key.Key_T, "trimap"), (Qt.Key.Key_P, "photo")):
        qtbot.keyClick(window, key)
        assert window.session.view_mode == mode
        shots[mode] = qimage_to_rgb(window.canvas.image())
    assert shots["alpha"][0, 0].max() == 0 and shots["alpha"][60, 80].min() == 1.0
    assert np.allclose(shots["photo"], window.session.photo.rgb, atol=1 / 255 + 1e-6)
    window.session.set_view(mode="alpha")
    window.actions["before"].trigger()
    assert np.allclose(qimage_to_rgb(window.canvas.image()), window.session.photo.rgb, atol=1 / 255 + 1e-6)


def test_edge_adjustments_non_destructive_and_remembered(qtbot, window, photo, settings):
    _open(qtbot, window, photo)
    raw = window.session.matte.raw.copy()
    window.panel.sliders["feather"].setValue(10)
    assert not np.array_equal(window.session.matte.alpha, raw)
    assert np.array_equal(window.session.matte.raw, raw)
    window.session.set_adjustments(EdgeAdjustments())
    assert np.array_equal(window.session.matte.alpha, raw)
    window.panel.sliders["contrast"].setValue(40)
    window.session.doc.mark_saved()
    _open(qtbot, window, photo)  # reopening the same photo restores its adjustments
    assert window.session.adjust.contrast == 40 and window.panel.sliders["contrast"].value() == 40


def test_zoom_and_pan(qtbot, window, photo):
    _open(qtbot, window, photo)
    c = window.canvas
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert c.zoom == 1.0
    anchor = window.canvas.widget_to_image(QPointF(c.width() / 2, c.height() / 2))
    c.zoom_by(2.0)
    after = window.canvas.widget_to_image(QPointF(c.width() / 2, c.height() / 2))
    assert abs(anchor.x() - after.x()) < 1e-6
    off = QPointF(c.offset)
    qtbot.mousePress(c, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(140, 120))
    qtbot.mouseRelease(c, Qt.MouseButton.MiddleButton, pos=QPoint(140, 120))
    assert c.offset.x() - off.x() == pytest.approx(40) and c.offset.y() - off.y() == pytest.approx(20)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert c.zoom > 1.0  # fit: a 160x120 photo in a big window is enlarged


def test_settings_persist(qtbot, make_window, photo):
    w = make_window()
    w.session.set_brush_radius(33)
    w.session.set_view(mode="alpha")
    w.open_photo(photo)
    w.close()
    w2 = make_window()
    assert w2.canvas.brush_radius == 33 and w2.session.view_mode == "alpha"
    assert w2.settings.recent[0] == str(photo)


def _crash_after_autosave(make_window, photo):
    """Open ``photo``, mark everything but the foreground unknown and autosave; the window is then
    left as a crash leaves it (never closed, nothing saved). Returns the recovery file."""
    w = make_window()
    w.open_photo(photo)
    doc = w.session.doc
    doc.replace(np.full_like(doc.trimap, UNKNOWN) | (doc.trimap == 255).astype(np.uint8) * 255)
    saved = w.documents.autosave(wait=True)
    assert saved is not None and saved.exists()
    w.service.shutdown()
    return saved


def test_crash_recovery_offers_autosaved_trimap(qtbot, make_window, photo):
    _crash_after_autosave(make_window, photo)
    w2 = make_window()
    w2.open_photo(photo)
    assert w2.prompter.asked == ["Recover trimap"]
    sidecar = np.asarray(Image.open(photo.with_name("photo_trimap.png")))
    assert (w2.session.doc.trimap == UNKNOWN).sum() > (sidecar == 128).sum()
    assert w2.session.doc.dirty  # restored work is unsaved until the user saves it


def test_an_unusable_recovery_file_is_reported_once_then_removed(qtbot, make_window, photo):
    saved = _crash_after_autosave(make_window, photo)
    saved.write_bytes(b"not a png any more")  # corrupted on disk after the crash
    w2 = make_window()
    with qtbot.waitSignal(w2.errorShown, timeout=10000) as blocker:
        w2.open_photo(photo)
    assert "recovery file unusable" in blocker.args[0] and not saved.exists()
    w2.open_photo(photo, ask=False)  # opened again: nothing is offered twice
    assert w2.prompter.asked == ["Recover trimap"]


def test_zoomed_out_large_photo_draws_from_kept_up_to_date_pyramid(qtbot, window, tmp_path, monkeypatch):
    import cv2

    import matting_gui.gui.widgets.canvas as canvas_mod
    from matting_gui.gui.convert import qimage_to_rgb

    monkeypatch.setattr(canvas_mod, "PYRAMID_MIN_PIXELS", 10_000)
    p = tmp_path / "big.png"
    Image.fromarray((make_photo(300, 400) * 255).astype(np.uint8)).save(p)
    window.open_photo(p)
    c = window.canvas
    assert [factor for factor, _ in c.levels()] == [2, 4, 8]
    window.session.set_tool("foreground")
    window.session.set_brush_radius(30)
    _stroke(qtbot, window, [(200, 150), (220, 150)])
    src = np.round(qimage_to_rgb(c.image()) * 255).astype(np.uint8)
    for factor, view in c.levels():  # each level equals a fresh downscale of the display
        h, w = view.shape[:2]
        ref = cv2.resize(src[: h * factor, : w * factor], (w, h), interpolation=cv2.INTER_AREA)
        assert np.abs(view.astype(int) - ref.astype(int)).max() <= 1
    c.set_zoom(0.2)  # 1/5: drawn from the 1/4 level; what is on screen is the zoomed-out photo
    shot = qimage_to_rgb(c.grab().toImage())
    x0, y0 = int(c.offset.x()) + 2, int(c.offset.y()) + 2
    drawn = shot[y0 : y0 + 50, x0 : x0 + 70]
    expected = cv2.resize(src, (80, 60), interpolation=cv2.INTER_AREA)[:50, :70] / 255.0
    assert np.abs(drawn - expected).mean() < 0.05


def test_incomplete_trimap_gives_a_notice_not_an_error(qtbot, window, tmp_path):
    p = tmp_path / "plain.png"
    Image.fromarray((make_photo(60, 80) * 255).astype(np.uint8)).save(p)
    with qtbot.waitSignal(window.noticeShown, timeout=TIMEOUT) as blocker:
        window.open_photo(p)  # all background: nothing to matte yet
    assert "no unknown" in blocker.args[0] and "Auto band" in blocker.args[0]
    assert window.last_error is None
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        _export(window, tmp_path)
    assert "cannot export" in blocker.args[0]


def test_space_drag_pans_instead_of_painting(qtbot, window, photo):
    _open(qtbot, window, photo)
    c = window.canvas
    c.setFocus()
    before_tri = window.session.doc.trimap.copy()
    off = QPointF(c.offset)
    qtbot.keyPress(c, Qt.Key.Key_Space)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(130, 90))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(130, 90))
    qtbot.keyRelease(c, Qt.Key.Key_Space)
    assert c.offset.x() - off.x() == pytest.approx(30) and c.offset.y() - off.y() == pytest.approx(-10)
    assert np.array_equal(window.session.doc.trimap, before_tri)


def test_cancelled_export_writes_nothing(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.service.errored, timeout=TIMEOUT):  # the worker stops it: ExportCancelled
        _export(window, out)
        window.matte.cancel_export()  # what the progress dialog's Cancel button does
    assert list(out.iterdir()) == [] and window.matte.export_job is None


@pytest.mark.parametrize("int8_faster", [True, False])
def test_previews_switch_to_int8_once_quantized_if_faster_full_mattes_stay_fp32(qtbot, window, photo, monkeypatch,
                                                                                int8_faster):
    monkeypatch.setattr("matting_gui.gui.controllers.matte.PREVIEW_PIXELS", 60 * 80)  # the 160x120 photo gets previews
    from matting_gui.core.quantize import QuantizedMatting

    def fake_time(model, image, trimap, device, repeats=3):  # this host's timing, made deterministic
        return (0.05 if int8_faster else 0.2) if isinstance(model, QuantizedMatting) else 0.1

    monkeypatch.setattr("matting_gui.core.predictor.time_forward", fake_time)
    res = _open(qtbot, window, photo)
    assert res.result.precision == "fp32"
    pred = window.service.predictors.get(window.session.model, window.session.device)
    assert pred.wait_int8(timeout=120)  # built in the background after the first load
    assert pred.prefers_int8 is int8_faster
    window.session.set_tool("unknown")
    shown = []
    window.matteShown.connect(shown.append)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        _stroke(qtbot, window, [(70, 60), (80, 60), (90, 60)])  # stroke end: a preview, then the full matte
    previews = [r for r in shown if r.job.stamp.preview]
    assert previews and all(r.result.precision == ("int8" if int8_faster else "fp32") for r in previews)
    assert shown[-1].result.precision == "fp32" and not shown[-1].job.stamp.preview


def _loader_threads_done(qtbot):
    for t in threading.enumerate():
        if t.name == "photo-loader":
            t.join(30)
    qtbot.wait(50)  # deliver their queued results


def test_large_photo_opens_in_the_background_without_edits_meanwhile(qtbot, window, photo, monkeypatch):
    monkeypatch.setattr("matting_gui.gui.controllers.document.BACKGROUND_OPEN_PIXELS", 100)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        assert window.open_photo(photo)  # returns at once: decoding runs in a thread
        assert window.documents.loading_path == photo and not window.canvas.isEnabled()
    assert window.documents.loading_path is None and window.canvas.isEnabled()
    assert window.session.photo.path == photo and window.session.doc.trimap[60, 80] == FOREGROUND  # sidecar trimap came along


def test_background_open_failure_keeps_the_document(qtbot, window, photo, tmp_path, monkeypatch):
    _open(qtbot, window, photo)
    monkeypatch.setattr("matting_gui.gui.controllers.document.BACKGROUND_OPEN_PIXELS", 100)
    truncated = tmp_path / "truncated.png"
    data = photo.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # the header is fine, the pixels are not
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        assert window.open_photo(truncated)
    assert "truncated.png" in blocker.args[0]
    assert window.session.photo.path == photo and window.session.photo.rgb is not None and window.canvas.isEnabled()


def test_newest_open_wins_over_an_unfinished_background_open(qtbot, window, photo, tmp_path, monkeypatch):
    monkeypatch.setattr("matting_gui.gui.controllers.document.BACKGROUND_OPEN_PIXELS", 100)
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(90, 70, seed=3) * 255).astype(np.uint8)).save(other)
    Image.fromarray(make_trimap(90, 70)).save(tmp_path / "other_trimap.png")
    assert window.open_photo(photo)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        assert window.open_photo(other)
    _loader_threads_done(qtbot)
    assert window.session.photo.path == other and window.session.photo.rgb.shape == (90, 70, 3) and window.documents.loading_path is None


def test_edits_made_while_a_photo_loads_are_not_silently_dropped(qtbot, window, photo, tmp_path, monkeypatch):
    _open(qtbot, window, photo)
    monkeypatch.setattr("matting_gui.gui.controllers.document.BACKGROUND_OPEN_PIXELS", 100)
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(90, 70, seed=3) * 255).astype(np.uint8)).save(other)
    window.prompter.choice = "cancel"
    assert window.open_photo(other, ask=False)  # loading starts (the document was clean)
    window.session.doc.fill(5, 5, UNKNOWN)  # an edit (e.g. Fill) lands on the old document meanwhile
    assert window.session.doc.dirty
    _loader_threads_done(qtbot)
    assert window.prompter.asked and window.session.photo.path == photo and window.session.doc.dirty  # asked again; "cancel" kept the edit


@pytest.mark.parametrize("switch_view", [False, True])
def test_background_open_shows_the_same_first_frame_as_a_normal_open(qtbot, window, photo, monkeypatch, switch_view):
    """The first frame is rendered in the loader thread; a view switched meanwhile is re-rendered."""
    window.session.set_view(mode="trimap")
    monkeypatch.setattr("matting_gui.gui.controllers.document.BACKGROUND_OPEN_PIXELS", 100)
    assert window.open_photo(photo)
    if switch_view:
        window.session.set_view(mode="alpha")
    _loader_threads_done(qtbot)
    from matting_gui.gui.convert import qimage_to_rgb

    shown = qimage_to_rgb(window.canvas.image())
    window.refresh_display()  # what the UI thread itself renders for the current view
    assert window.session.photo is not None and np.array_equal(shown, qimage_to_rgb(window.canvas.image()))
    assert shown.any()


def test_the_edges_panel_decontaminate_box_drives_view_and_export(qtbot, window, photo, tmp_path):
    """The box in the Edges panel and the View-menu action are one setting, and export honours it:
    off, the cutout carries the photo's own colours; on, colours estimated for the foreground."""
    _open(qtbot, window, photo)
    window.panel.decontaminate.setChecked(False)
    assert not window.session.decontaminate and not window.actions["decontaminate"].isChecked()
    with qtbot.waitSignal(window.exported, timeout=60000):
        _export(window, tmp_path, "raw", matte=False, cutout=True)
    raw = np.asarray(Image.open(tmp_path / "raw_cutout.png"))
    original = np.asarray(Image.open(photo).convert("RGB"))
    assert np.abs(raw[..., :3].astype(int) - original).max() <= 1
    window.actions["decontaminate"].trigger()  # the menu action, the other way in
    assert window.session.decontaminate and window.panel.decontaminate.isChecked()
    with qtbot.waitSignal(window.exported, timeout=60000):
        _export(window, tmp_path, "clean", matte=False, cutout=True)
    clean = np.asarray(Image.open(tmp_path / "clean_cutout.png"))
    soft = (clean[..., 3] > 0) & (clean[..., 3] < 255)
    assert soft.any() and np.abs(clean[..., :3].astype(int) - original)[soft].max() > 1


def test_saving_the_sample_never_touches_the_bundled_files(qtbot, window, monkeypatch, tmp_path):
    """The sample's trimap is saved to the user's data folder, and the sample reopens with it; the
    installed resources stay as shipped (issue 16, defect 8)."""
    from matting_gui.core.imageio import read_trimap
    from matting_gui.gui.controllers.document import SAMPLE_TRIMAP

    shipped = SAMPLE_TRIMAP.read_bytes()
    with qtbot.waitSignal(window.matteShown, timeout=60000):
        window.open_sample()
    window.session.doc.begin_stroke(UNKNOWN)
    window.session.doc.paint_segment(10, 10, 40, 10, 6)
    window.session.doc.end_stroke()
    edited = window.session.doc.trimap.copy()
    assert window.documents.save_trimap()
    assert SAMPLE_TRIMAP.read_bytes() == shipped
    saved = Path(os.environ["MATTING_USER_DATA"]) / "samples" / SAMPLE_TRIMAP.name
    assert np.array_equal(read_trimap(saved), edited)
    with qtbot.waitSignal(window.matteShown, timeout=60000):
        window.open_sample()
    assert np.array_equal(window.session.doc.trimap, edited)


def test_at_an_empty_launch_document_actions_are_disabled(qtbot, make_window, photo):
    """Nothing to undo, save, band or export before a photo is open (issue 16, defect 11)."""
    w = make_window()
    names = ("undo", "redo", "save", "save_as", "export", "auto_band")
    assert not any(w.actions[n].isEnabled() for n in names)
    with qtbot.waitSignal(w.matteShown, timeout=60000):
        w.open_photo(photo)
    assert all(w.actions[n].isEnabled() for n in ("export", "auto_band", "save", "save_as"))


def test_space_drag_pans_even_when_a_panel_widget_has_the_focus(qtbot, window, photo):
    """Issue 16, defect 2: Space+drag pans (never paints) whatever widget has the keyboard focus."""
    _open(qtbot, window, photo)
    c = window.canvas
    window.panel.sliders["feather"].setFocus()
    before = window.session.doc.trimap.copy()
    off = QPointF(c.offset)
    qtbot.keyPress(window.panel.sliders["feather"], Qt.Key.Key_Space)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(120, 110))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(120, 110))
    qtbot.keyRelease(window.panel.sliders["feather"], Qt.Key.Key_Space)
    assert c.offset.x() - off.x() == pytest.approx(20) and np.array_equal(window.session.doc.trimap, before)


def test_single_key_shortcuts_work_while_a_spin_box_has_the_focus(qtbot, window, photo):
    """Issue 16, defect 3: letters reach the tool and view shortcuts from a spin box; digits are typing;
    Esc goes back to the canvas; opening a photo puts the focus on the canvas."""
    _open(qtbot, window, photo)
    assert window.canvas.hasFocus()
    band = window.toolbars.band
    band.setFocus()
    band.lineEdit().selectAll()
    qtbot.keyClicks(band.lineEdit(), "7")
    assert band.value() == 7  # a digit is a number typed into the box
    qtbot.keyClick(band.lineEdit(), Qt.Key.Key_B)
    assert window.session.tool == "background"
    qtbot.keyClick(band.lineEdit(), Qt.Key.Key_A)
    assert window.session.view_mode == "alpha"
    qtbot.keyClick(band.lineEdit(), Qt.Key.Key_Escape)
    assert window.canvas.hasFocus()


def test_the_matte_follows_the_brush_during_a_stroke(qtbot, window, photo, monkeypatch):
    """Issue 16: previews of the stroke being painted are shown while the button is still down."""
    monkeypatch.setattr("matting_gui.gui.controllers.matte.PREVIEW_PIXELS", 60 * 80)  # the photo gets previews
    _open(qtbot, window, photo)
    c = window.canvas
    window.session.set_tool("unknown")
    window.session.set_brush_radius(4)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, 30, 30))
    shown = []
    for k in range(12):
        qtbot.mouseMove(c, _widget_point(window, 30 + 8 * k, 30 + 4 * k))
        with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT) as blocker:
            pass  # the throttled preview of this stroke arrives while the button is down
        shown.append((blocker.args[0].job.stamp, window.session.doc.in_stroke))
        if len(shown) >= 2:
            break
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, 50, 40))
    assert all(in_stroke and stamp.preview and stamp.stroke == window.session.doc.stroke_id
               for stamp, in_stroke in shown)


def test_an_export_uses_what_it_started_with_whatever_happens_meanwhile(qtbot, window, photo, tmp_path):
    """Issue 16, defect 6: an undo and opening another photo while an export runs neither replace nor
    cut it; it writes the photo, trimap and settings it was started with."""
    _open(qtbot, window, photo)
    window.session.set_tool("unknown")
    _stroke(qtbot, window, [(70, 60), (90, 60)])
    expected = window.session.doc.trimap.copy()
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(50, 40, seed=4) * 255).astype(np.uint8)).save(other)
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        _export(window, out, "first")
        window.actions["undo"].trigger()
        window.prompter.choice = "discard"
        window.open_photo(other)
    assert [p.name for p in blocker.args[0]] == ["first_matte.png"]
    matte = np.asarray(Image.open(out / "first_matte.png"))
    assert matte.shape == (120, 160)  # the photo it started with, not the one opened meanwhile
    assert matte[60, 80] < 255 and np.all(matte[expected == FOREGROUND] == 255)  # with the stroke undone later
    assert window.matte.export_job is None and window.session.photo.path == other


def test_opening_a_photo_in_alpha_view_shows_it_and_clears_the_last_matte_status(qtbot, window, photo, tmp_path):
    """Issue 16, defect 7: no black canvas, no status of the previous photo's matte."""
    _open(qtbot, window, photo)
    assert window.status.model_label.text()
    window.session.set_view(mode="alpha")
    plain = tmp_path / "plain.png"
    Image.fromarray((make_photo(60, 80, seed=2) * 255).astype(np.uint8)).save(plain)
    with qtbot.waitSignal(window.noticeShown, timeout=TIMEOUT):
        window.open_photo(plain)  # all background: no matte yet
    from matting_gui.gui.convert import qimage_to_rgb

    assert window.status.model_label.text() == "" and window.status.time_label.text() == ""
    assert np.allclose(qimage_to_rgb(window.canvas.image()), window.session.photo.rgb, atol=1 / 255 + 1e-6)


def test_select_subject_with_one_drag_then_refine_and_undo(qtbot, window, tmp_path):
    """Issue 16: the Select subject tool (S) turns a box into a trimap (GrabCut, off the UI thread),
    the matte follows, painting refines it, and one undo removes the selection."""
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    disc = np.hypot(yy - 60, xx - 80) < 35
    img = np.where(disc[..., None], (0.85, 0.2, 0.15), (0.25, 0.35, 0.55)).astype(np.float32)
    p = tmp_path / "disc.png"
    Image.fromarray((img * 255).astype(np.uint8)).save(p)
    window.open_photo(p)
    qtbot.keyClick(window.canvas, Qt.Key.Key_S)
    assert window.session.tool == "select" and window.actions["tool:select"].isChecked()
    c = window.canvas
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, 30, 10))
        qtbot.mouseMove(c, _widget_point(window, 90, 60))
        qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, 130, 110))
    tri = window.session.doc.trimap
    assert tri[60, 80] == FOREGROUND and tri[5, 5] == BACKGROUND and tri[60, 80 + 35] == UNKNOWN
    assert window.session.doc.can_undo() and window.session.matte.alpha[60, 80] == 1.0
    window.session.set_tool("background")
    _stroke(qtbot, window, [(80, 60), (82, 60)])  # strokes refine the selection
    assert window.session.doc.trimap[60, 81] == BACKGROUND
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()
    assert (window.session.doc.trimap == BACKGROUND).all()  # the selection was one undo step


def test_the_stroke_outline_shows_in_every_view_while_painting(qtbot, window, photo):
    """Issue 16: the painted region's outline is drawn over the alpha view during a stroke, gone after."""
    _open(qtbot, window, photo)
    window.session.set_view(mode="alpha")
    window.session.set_tool("unknown")
    window.session.set_brush_radius(5)
    c = window.canvas
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, 40, 40))
    qtbot.mouseMove(c, _widget_point(window, 100, 40))
    outline = c.stroke_outline()
    assert outline is not None
    box = outline.boundingRect()
    left, right = _widget_point(window, 40, 40), _widget_point(window, 100, 40)
    assert box.left() < left.x() and box.right() > right.x()  # covers the dragged segment plus the brush
    assert box.height() == pytest.approx(10 * c.zoom, rel=0.2)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=_widget_point(window, 100, 40))
    assert c.stroke_outline() is None


def test_help_lists_the_shortcuts_and_an_empty_photo_shows_what_to_do_first(qtbot, window, tmp_path):
    """Issue 16, defects 15 and 16: F1 lists the keys from the action table; a photo with nothing
    to matte shows a one-line hint; switching to a model not loaded yet says it is loading."""
    from matting_gui.gui.actions import show_shortcuts

    box = show_shortcuts(window, window.actions)
    qtbot.addWidget(box)
    assert "Select subject" in box.text() and "Ctrl+B" in box.text() and "F1" in box.text()
    assert window.actions["shortcuts"].shortcut().toString() == "F1"
    p = tmp_path / "plain.png"
    Image.fromarray((make_photo(60, 80) * 255).astype(np.uint8)).save(p)
    window.open_photo(p)
    assert "Select subject" in window.canvas.hint
    window.session.doc.replace(make_trimap(60, 80))
    assert window.canvas.hint == ""
    messages = []
    window.matte.status.connect(messages.append)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        window.actions["model:teacher"].trigger()
    assert messages[:1] == ["Loading the teacher model…"] and messages[-1] == ""  # cleared once it is shown
    assert window.statusBar().currentMessage() == ""


def test_the_brush_keeps_its_size_relative_to_the_photo(qtbot, window, tmp_path):
    """Issue 16, defect 12: a 40 px brush on a 400 px photo is a 10 px brush on a 100 px one."""
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.fromarray((make_photo(300, 400) * 255).astype(np.uint8)).save(big)
    Image.fromarray((make_photo(75, 100) * 255).astype(np.uint8)).save(small)
    window.open_photo(big)
    window.session.set_brush_radius(40)
    window.open_photo(small)
    assert window.session.brush_radius == pytest.approx(10) and window.toolbars.brush.value() == 10
    assert window.canvas.brush_radius == pytest.approx(10)
