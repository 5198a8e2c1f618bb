"""The editor, driven like a user would: offscreen, with simulated mouse and keys."""

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from matting_gui.core.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from tests.conftest import make_photo, make_trimap

TIMEOUT = 20000


def _full(res):
    return not res.job.preview


def _open(qtbot, window, path, trimap=None):
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full) as blocker:
        assert window.open_photo(path, trimap)
    return blocker.args[0]


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
    assert window.doc.trimap[60, 80] == FOREGROUND and window.trimap_path.name == "photo_trimap.png"
    assert res.alpha.shape == (120, 160)
    assert window.alpha[60, 80] == 1.0 and window.alpha[0, 0] == 0.0
    assert "photo.png" in window.windowTitle() and "*" not in window.windowTitle()
    assert window.model_label.text().startswith("student")


def test_paint_stroke_changes_matte_where_painted_then_undo_redo(qtbot, window, photo):
    _open(qtbot, window, photo)
    before = window.alpha.copy()
    window.set_tool("unknown")
    window.set_brush_radius(6)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        _stroke(qtbot, window, [(70, 60), (80, 60), (90, 60)])
    assert window.doc.trimap[60, 80] == UNKNOWN
    assert window.alpha[60, 80] != before[60, 80]  # was forced to 1, now the network's estimate
    assert np.array_equal(window.alpha[0:10, 0:10], before[0:10, 0:10])  # untouched far away
    assert window.windowTitle().startswith("photo.png*")
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.trimap[60, 80] == FOREGROUND and window.alpha[60, 80] == 1.0
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.trimap[60, 80] == UNKNOWN


def test_brush_keys_and_tool_shortcuts(qtbot, window, photo):
    _open(qtbot, window, photo)
    qtbot.keyClick(window, Qt.Key.Key_B)
    assert window.tool == "background"
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert window.tool == "foreground"
    r = window.canvas.brush_radius
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.canvas.brush_radius > r
    assert "(B, 2)" in window.tool_actions["background"].toolTip()


def test_fifty_rapid_edits_never_show_a_stale_matte(qtbot, window, photo):
    _open(qtbot, window, photo)
    shown = []
    window.matteShown.connect(lambda r: shown.append((r.job.revision, window.doc.revision)))
    gate = threading.Event()
    original = window.service._worker.predictor

    def slow_predictor(model, device):  # hold the worker so requests pile up
        gate.wait(10)
        return original(model, device)

    window.service._worker.predictor = slow_predictor
    window.set_tool("unknown")
    window.set_brush_radius(2)
    for i in range(50):
        window.doc.begin_stroke(UNKNOWN if i % 2 else BACKGROUND)
        window.doc.paint_segment(10 + i, 5, 10 + i, 8, 2)
        window.doc.end_stroke()
        window._trimap_changed(None)
        window.request_matte()
    gate.set()
    final_rev = window.doc.revision
    qtbot.waitUntil(lambda: window.alpha_info is not None and window.alpha_info[0] == final_rev
                    and not window.alpha_info[2], timeout=TIMEOUT)
    assert all(job_rev == doc_rev for job_rev, doc_rev in shown)  # every shown matte was current
    assert window.service.superseded >= 40  # piled-up requests were replaced, not run


def test_worker_error_is_reported_and_app_recovers(qtbot, window, photo):
    _open(qtbot, window, photo)
    kept = window.alpha.copy()
    window.service.fail_next = RuntimeError("simulated failure in the worker")
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        window.request_matte()
    assert "simulated failure" in blocker.args[0]
    assert np.array_equal(window.alpha, kept)  # previous matte stays
    window.service.fail_next = MemoryError()
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        window.request_matte()
    assert "out of memory" in blocker.args[0]
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        window.request_matte()


def test_model_switch_reruns_with_teacher(qtbot, window, photo):
    _open(qtbot, window, photo)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full) as blocker:
        window.model_combo.setCurrentText("teacher")
    assert blocker.args[0].model_name == "teacher"
    assert window.model_label.text().startswith("teacher")
    assert window.settings.value("model") == "teacher"


def test_export_writes_matte_cutout_composite(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    window.set_background_kind("white")
    out = tmp_path / "out"
    out.mkdir()
    opts = {"stem": "x", "matte": True, "cutout": True, "composite": True, "composite_format": "jpg", "quality": 90}
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        window.export(out, opts)
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
    submit = window.service.submit
    monkeypatch.setattr(window.service, "submit", lambda job: (submitted.append(job), submit(job)))
    for on in (True, False):
        with qtbot.waitSignal(window.exported, timeout=60000):
            window.export(tmp_path, {"stem": f"x{on}", "matte": True, "mirror": False, "refine": False, option: on})
    assert [getattr(j, option) for j in submitted if j.tag == "export"] == [True, False]
    a, b = (np.asarray(Image.open(tmp_path / f"x{on}_matte.png")) for on in (True, False))
    assert a.shape == b.shape == (120, 160) and not np.array_equal(a, b)


def test_export_dialog_offers_mirror_averaging_and_refinement(qtbot, window):
    from matting_gui.gui.export_dialog import ExportDialog

    for default in (True, False):
        dlg = ExportDialog(window, "/tmp", "x", 8, mirror=True, refine=default)
        qtbot.addWidget(dlg)
        assert dlg.options()["refine"] is default


def test_export_dialog_offers_mirror_averaging(qtbot, window):
    from matting_gui.gui.export_dialog import ExportDialog

    for default in (True, False):
        dlg = ExportDialog(window, "/tmp", "x", 8, mirror=default)
        qtbot.addWidget(dlg)
        assert dlg.options()["mirror"] is default
        dlg.mirror.setChecked(not default)
        assert dlg.options()["mirror"] is not default


def test_export_to_unwritable_folder_keeps_everything(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    window.set_tool("unknown")
    _stroke(qtbot, window, [(20, 20), (30, 20)])
    rev = window.doc.revision
    with qtbot.waitSignal(window.errorShown, timeout=60000) as blocker:
        window.export(tmp_path / "missing" / "folder", {"stem": "x", "matte": True})
    assert "export failed" in blocker.args[0]
    assert window.doc.revision == rev and window.doc.dirty and window.alpha is not None


def test_unsaved_changes_prompt(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    window.set_tool("background")
    _stroke(qtbot, window, [(80, 60), (82, 60)])
    assert window.doc.dirty
    asked = []
    window.ask_save_choice = lambda: asked.append(1) or "cancel"
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(50, 50, seed=5) * 255).astype(np.uint8)).save(other)
    assert not window.open_photo(other)  # cancelled: nothing lost
    assert asked and window.path.name == "photo.png" and window.doc.dirty
    window.ask_save_choice = lambda: "save"
    assert window.open_photo(other)
    saved = np.asarray(Image.open(tmp_path / "photo_trimap.png"))
    assert saved[60, 81] == BACKGROUND  # the stroke was saved before switching


def test_close_with_unsaved_changes_can_be_cancelled(qtbot, window, photo):
    _open(qtbot, window, photo)
    window.set_tool("background")
    _stroke(qtbot, window, [(80, 60), (82, 60)])
    window.ask_save_choice = lambda: "cancel"
    assert not window.close()
    assert window.isVisible()


def test_bad_file_shows_error_and_keeps_document(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        assert not window.open_photo(bad)
    assert "not a supported image format" in blocker.args[0]
    assert window.path == photo and window.image is not None
    wrong = tmp_path / "wrong_trimap.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(wrong)
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        assert not window.load_trimap(wrong)
    assert "does not match" in blocker.args[0]


def test_auto_band_and_fill(qtbot, window, tmp_path):
    p = tmp_path / "plain.png"
    Image.fromarray((make_photo(100, 100) * 255).astype(np.uint8)).save(p)
    window.open_photo(p)
    assert (window.doc.trimap == BACKGROUND).all()  # a new photo starts all background
    window.band_spin.setValue(5)
    window.auto_band()  # nothing painted yet → a clear message, no crash
    assert "foreground first" in window.last_error
    window.set_tool("foreground")
    window.set_brush_radius(20)
    _stroke(qtbot, window, [(50, 50), (51, 50)])
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        window.auto_band()
    tri = window.doc.trimap
    assert tri[50, 50] == FOREGROUND and tri[50, 71] == UNKNOWN and tri[0, 0] == BACKGROUND
    window.set_tool("fill")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_widget_point(window, 2, 2))
    assert window.doc.trimap[2, 2] == FOREGROUND  # the outer background region was filled
    window.undo()
    assert window.doc.trimap[2, 2] == BACKGROUND


def test_view_modes_and_before_after(qtbot, window, photo):
    _open(qtbot, window, photo)
    from matting_gui.gui.convert import qimage_to_rgb

    shots = {}
    for key, mode in ((Qt.Key.Key_A, "alpha"), (Qt.Key.Key_C, "composite"), (Qt.Key.Key_T, "trimap"), (Qt.Key.Key_P, "photo")):
        qtbot.keyClick(window, key)
        assert window.view_mode == mode
        shots[mode] = qimage_to_rgb(window.canvas.image())
    assert shots["alpha"][0, 0].max() == 0 and shots["alpha"][60, 80].min() == 1.0
    assert np.allclose(shots["photo"], window.image, atol=1 / 255 + 1e-6)
    window.set_view_mode("alpha")
    window.act_before.trigger()
    assert np.allclose(qimage_to_rgb(window.canvas.image()), window.image, atol=1 / 255 + 1e-6)


def test_edge_adjustments_non_destructive_and_remembered(qtbot, window, photo, settings):
    _open(qtbot, window, photo)
    raw = window.raw_alpha.copy()
    window.sliders["feather"].setValue(10)
    assert not np.array_equal(window.alpha, raw)
    assert np.array_equal(window.raw_alpha, raw)
    window.reset_adjustments()
    assert np.array_equal(window.alpha, raw)
    window.sliders["contrast"].setValue(40)
    window.doc.mark_saved()
    _open(qtbot, window, photo)  # reopening the same photo restores its adjustments
    assert window.adjust.contrast == 40 and window.sliders["contrast"].value() == 40


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


def test_settings_persist(qtbot, settings, models, photo):
    from matting_gui.gui.main_window import MainWindow

    w = MainWindow(settings)
    w.ask_save_choice = lambda: "discard"
    qtbot.addWidget(w)
    w.set_brush_radius(33)
    w.set_view_mode("alpha")
    w.open_photo(photo)
    w.close()
    w2 = MainWindow(settings)
    w2.ask_save_choice = lambda: "discard"
    qtbot.addWidget(w2)
    assert w2.canvas.brush_radius == 33 and w2.view_mode == "alpha"
    assert w2._recent()[0] == str(photo)
    w2.close()


def _crash_after_autosave(qtbot, settings, photo):
    """Open ``photo``, mark everything but the foreground unknown, autosave, then vanish without
    saving or asking (a crash). Returns the recovery file."""
    from matting_gui.gui.main_window import MainWindow

    w = MainWindow(settings)
    w.ask_save_choice = lambda: "discard"
    qtbot.addWidget(w)
    w.open_photo(photo)
    w.doc.replace(np.full_like(w.doc.trimap, UNKNOWN) | (w.doc.trimap == 255).astype(np.uint8) * 255)
    saved = w.autosave_recovery(wait=True)
    assert saved is not None
    w.doc = None
    w.service.shutdown()
    return saved


def test_crash_recovery_offers_autosaved_trimap(qtbot, settings, models, photo):
    from matting_gui.gui.main_window import MainWindow

    _crash_after_autosave(qtbot, settings, photo)
    w2 = MainWindow(settings)
    w2.ask_save_choice = lambda: "discard"
    qtbot.addWidget(w2)
    w2.confirm = lambda title, text: True
    w2.open_photo(photo)
    assert (w2.doc.trimap == UNKNOWN).sum() > (np.asarray(Image.open(photo.with_name("photo_trimap.png"))) == 128).sum()
    assert w2.doc.dirty  # restored work is unsaved until the user saves it
    w2.doc = None
    w2.service.shutdown()


def test_an_unusable_recovery_file_is_reported_once_then_removed(qtbot, settings, models, photo):
    from matting_gui.gui.main_window import MainWindow

    saved = _crash_after_autosave(qtbot, settings, photo)
    saved.write_bytes(b"not a png any more")  # corrupted on disk after the crash
    asked = []
    w2 = MainWindow(settings)
    w2.ask_save_choice = lambda: "discard"
    qtbot.addWidget(w2)
    w2.confirm = lambda title, text: asked.append(title) or True
    with qtbot.waitSignal(w2.errorShown, timeout=10000) as blocker:
        w2.open_photo(photo)
    assert "recovery file unusable" in blocker.args[0] and not saved.exists()
    w2.open_photo(photo, ask=False)  # opened again: nothing is offered twice
    assert asked == ["Recover trimap"]
    w2.doc = None
    w2.service.shutdown()




def test_zoomed_out_large_photo_draws_from_kept_up_to_date_pyramid(qtbot, window, tmp_path, monkeypatch):
    import matting_gui.gui.canvas as canvas_mod

    monkeypatch.setattr(canvas_mod, "PYRAMID_MIN_PIXELS", 10_000)
    p = tmp_path / "big.png"
    Image.fromarray((make_photo(300, 400) * 255).astype(np.uint8)).save(p)
    window.open_photo(p)
    c = window.canvas
    assert [lv.factor for lv in c._levels] == [2, 4, 8]
    window.set_tool("foreground")
    window.set_brush_radius(30)
    _stroke(qtbot, window, [(200, 150), (220, 150)])
    import cv2

    for lv in c._levels:  # each level equals a fresh downscale of the display
        src = np.ascontiguousarray(c._source)
        h, w = lv.view.shape[:2]
        ref = cv2.resize(src[: h * lv.factor, : w * lv.factor], (w, h), interpolation=cv2.INTER_AREA)
        assert np.abs(lv.view.astype(int) - ref.astype(int)).max() <= 1
    c.set_zoom(0.2)
    c.repaint()  # draws from the 1/4 level without error


def test_incomplete_trimap_gives_a_notice_not_an_error(qtbot, window, tmp_path):
    p = tmp_path / "plain.png"
    Image.fromarray((make_photo(60, 80) * 255).astype(np.uint8)).save(p)
    with qtbot.waitSignal(window.noticeShown, timeout=TIMEOUT) as blocker:
        window.open_photo(p)  # all background: nothing to matte yet
    assert "no unknown region" in blocker.args[0]
    assert window.last_error is None
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        window.export(tmp_path, {"stem": "x", "matte": True})
    assert "cannot export" in blocker.args[0]


def test_space_drag_pans_instead_of_painting(qtbot, window, photo):
    _open(qtbot, window, photo)
    c = window.canvas
    c.setFocus()
    before_tri = window.doc.trimap.copy()
    off = QPointF(c.offset)
    qtbot.keyPress(c, Qt.Key.Key_Space)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(130, 90))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(130, 90))
    qtbot.keyRelease(c, Qt.Key.Key_Space)
    assert c.offset.x() - off.x() == pytest.approx(30) and c.offset.y() - off.y() == pytest.approx(-10)
    assert np.array_equal(window.doc.trimap, before_tri)


def test_cancelled_export_writes_nothing(qtbot, window, photo, tmp_path):
    _open(qtbot, window, photo)
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.service.finished, timeout=TIMEOUT):
        window.export(out, {"stem": "x", "matte": True})
        window._export_progress.canceled.emit()  # what the Cancel button does
    qtbot.wait(50)
    assert list(out.iterdir()) == [] and window._pending_export is None


def test_previews_switch_to_int8_once_quantized_full_mattes_stay_fp32(qtbot, window, photo, monkeypatch):
    monkeypatch.setattr("matting_gui.gui.main_window.PREVIEW_PIXELS", 60 * 80)  # the 160x120 photo gets previews
    res = _open(qtbot, window, photo)
    assert res.precision == "fp32"
    pred = window.service._worker._predictors[(window.model_name, window.device)]
    assert pred.wait_int8(timeout=120)  # built in the background after the first load
    window.set_tool("unknown")
    shown = []
    window.matteShown.connect(shown.append)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        _stroke(qtbot, window, [(70, 60), (80, 60), (90, 60)])  # stroke end: a preview, then the full matte
    previews = [r for r in shown if r.job.preview]
    assert previews and all(r.precision == "int8" for r in previews)
    assert shown[-1].precision == "fp32" and not shown[-1].job.preview


def _loader_threads_done(qtbot):
    for t in threading.enumerate():
        if t.name == "photo-loader":
            t.join(30)
    qtbot.wait(50)  # deliver their queued results


def test_large_photo_opens_in_the_background_without_edits_meanwhile(qtbot, window, photo, monkeypatch):
    monkeypatch.setattr("matting_gui.gui.main_window.BACKGROUND_OPEN_PIXELS", 100)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        assert window.open_photo(photo)  # returns at once: decoding runs in a thread
        assert window.loading == photo and not window.canvas.isEnabled()
    assert window.loading is None and window.canvas.isEnabled()
    assert window.path == photo and window.doc.trimap[60, 80] == FOREGROUND  # sidecar trimap came along


def test_background_open_failure_keeps_the_document(qtbot, window, photo, tmp_path, monkeypatch):
    _open(qtbot, window, photo)
    monkeypatch.setattr("matting_gui.gui.main_window.BACKGROUND_OPEN_PIXELS", 100)
    truncated = tmp_path / "truncated.png"
    data = photo.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # the header is fine, the pixels are not
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        assert window.open_photo(truncated)
    assert "truncated.png" in blocker.args[0]
    assert window.path == photo and window.image is not None and window.canvas.isEnabled()


def test_newest_open_wins_over_an_unfinished_background_open(qtbot, window, photo, tmp_path, monkeypatch):
    monkeypatch.setattr("matting_gui.gui.main_window.BACKGROUND_OPEN_PIXELS", 100)
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(90, 70, seed=3) * 255).astype(np.uint8)).save(other)
    Image.fromarray(make_trimap(90, 70)).save(tmp_path / "other_trimap.png")
    assert window.open_photo(photo)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=_full):
        assert window.open_photo(other)
    _loader_threads_done(qtbot)
    assert window.path == other and window.image.shape == (90, 70, 3) and window.loading is None


def test_edits_made_while_a_photo_loads_are_not_silently_dropped(qtbot, window, photo, tmp_path, monkeypatch):
    _open(qtbot, window, photo)
    monkeypatch.setattr("matting_gui.gui.main_window.BACKGROUND_OPEN_PIXELS", 100)
    other = tmp_path / "other.png"
    Image.fromarray((make_photo(90, 70, seed=3) * 255).astype(np.uint8)).save(other)
    asked = []
    window.ask_save_choice = lambda: asked.append(1) or "cancel"
    assert window.open_photo(other, ask=False)  # loading starts (the document was clean)
    window.auto_band()  # a keyboard edit (Ctrl+B) lands on the old document meanwhile
    assert window.doc.dirty
    _loader_threads_done(qtbot)
    assert asked and window.path == photo and window.doc.dirty  # asked again; "cancel" kept the edit


@pytest.mark.parametrize("switch_view", [False, True])
def test_background_open_shows_the_same_first_frame_as_a_normal_open(qtbot, window, photo, monkeypatch, switch_view):
    """The first frame is rendered in the loader thread; a view switched meanwhile is re-rendered."""
    window.set_view_mode("trimap")
    monkeypatch.setattr("matting_gui.gui.main_window.BACKGROUND_OPEN_PIXELS", 100)
    assert window.open_photo(photo)
    if switch_view:
        window.set_view_mode("alpha")
    _loader_threads_done(qtbot)
    shown = window._display_view.copy()
    window.refresh_display()  # what the UI thread itself renders for the current view
    assert window.image is not None and np.array_equal(shown, window._display_view)
    assert shown.any()


def test_the_edges_panel_decontaminate_box_drives_view_and_export(qtbot, window, photo, tmp_path):
    """The box in the Edges panel and the View-menu action are one setting, and export honours it:
    off, the cutout carries the photo's own colours; on, colours estimated for the foreground."""
    _open(qtbot, window, photo)
    window.decont_box.setChecked(False)
    assert not window.decontaminate and not window.act_decont.isChecked()
    with qtbot.waitSignal(window.exported, timeout=60000):
        window.export(tmp_path, {"stem": "raw", "matte": False, "cutout": True, "mirror": False})
    raw = np.asarray(Image.open(tmp_path / "raw_cutout.png"))
    original = np.asarray(Image.open(photo).convert("RGB"))
    assert np.abs(raw[..., :3].astype(int) - original).max() <= 1
    window.act_decont.trigger()  # the menu action, the other way in
    assert window.decontaminate and window.decont_box.isChecked()
    with qtbot.waitSignal(window.exported, timeout=60000):
        window.export(tmp_path, {"stem": "clean", "matte": False, "cutout": True, "mirror": False})
    clean = np.asarray(Image.open(tmp_path / "clean_cutout.png"))
    soft = (clean[..., 3] > 0) & (clean[..., 3] < 255)
    assert soft.any() and np.abs(clean[..., :3].astype(int) - original)[soft].max() > 1


def test_saving_the_sample_never_touches_the_bundled_files(qtbot, window, monkeypatch, tmp_path):
    """The sample's trimap is saved to the user's data folder, and the sample reopens with it; the
    installed resources stay as shipped (issue 16, defect 8)."""
    from matting_gui.core.imageio import read_trimap
    from matting_gui.gui.main_window import SAMPLE_TRIMAP

    shipped = SAMPLE_TRIMAP.read_bytes()
    with qtbot.waitSignal(window.matteShown, timeout=60000):
        window.open_sample()
    window.doc.begin_stroke(UNKNOWN)
    window.doc.paint_segment(10, 10, 40, 10, 6)
    window.doc.end_stroke()
    edited = window.doc.trimap.copy()
    assert window.save_trimap()
    assert SAMPLE_TRIMAP.read_bytes() == shipped
    saved = Path(os.environ["MATTING_USER_DATA"]) / "samples" / SAMPLE_TRIMAP.name
    assert np.array_equal(read_trimap(saved), edited)
    with qtbot.waitSignal(window.matteShown, timeout=60000):
        window.open_sample()
    assert np.array_equal(window.doc.trimap, edited)


def test_at_an_empty_launch_document_actions_are_disabled(qtbot, settings, models, photo):
    """Nothing to undo, save, band or export before a photo is open (issue 16, defect 11)."""
    from matting_gui.gui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    actions = (w.act_undo, w.act_redo, w.act_save, w.act_save_as, w.act_export, w.act_auto_band)
    assert not any(a.isEnabled() for a in actions)
    with qtbot.waitSignal(w.matteShown, timeout=60000):
        w.open_photo(photo)
    assert w.act_export.isEnabled() and w.act_auto_band.isEnabled() and w.act_save.isEnabled()
    w.doc = None
    w.service.shutdown()
