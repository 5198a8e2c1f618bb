"""The editor, driven like a user would (offscreen, simulated mouse and keys): painting, undo, views,
edge adjustments, model switching, select subject, fill and the live matte (navigation and the brush: test_navigation)."""

import threading

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from matting_gui.core.imaging.adjust import EdgeAdjustments
from tests.conftest import make_photo, make_trimap
from tests.gui.driving import TIMEOUT, is_full, open_and_wait, stroke, widget_point


def test_paint_stroke_changes_matte_where_painted_then_undo_redo(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    before = window.session.matte.alpha.copy()
    window.session.set_tool("unknown")
    window.session.set_brush_radius(6)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        stroke(qtbot, window, [(70, 60), (80, 60), (90, 60)])
    assert window.session.doc.trimap[60, 80] == UNKNOWN
    assert window.session.matte.alpha[60, 80] != before[60, 80]  # was forced to 1, now the network's estimate
    assert np.array_equal(window.session.matte.alpha[0:10, 0:10], before[0:10, 0:10])  # untouched far away
    assert window.windowTitle().startswith("photo.png*")
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.doc.trimap[60, 80] == FOREGROUND and window.session.matte.alpha[60, 80] == 1.0
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.session.doc.trimap[60, 80] == UNKNOWN


def test_fifty_rapid_edits_never_show_a_stale_matte(qtbot, window, photo, monkeypatch):
    open_and_wait(qtbot, window, photo)
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
    open_and_wait(qtbot, window, photo)
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
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        window.matte.request()


def test_model_switch_reruns_with_teacher(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full) as blocker:
        window.toolbars.model.textActivated.emit("teacher")  # what choosing it in the combo box does
    assert blocker.args[0].result.model_name == "teacher" and window.actions["model:teacher"].isChecked()
    assert window.status.model_label.text().startswith("teacher")
    assert window.settings.model == "teacher"


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
    stroke(qtbot, window, [(50, 50), (51, 50)])
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        window.auto_band()
    tri = window.session.doc.trimap
    assert tri[50, 50] == FOREGROUND and tri[50, 71] == UNKNOWN and tri[0, 0] == BACKGROUND
    window.session.set_tool("fill")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=widget_point(window, 2, 2))
    assert window.session.doc.trimap[2, 2] == FOREGROUND  # the outer background region was filled
    window.actions["undo"].trigger()
    assert window.session.doc.trimap[2, 2] == BACKGROUND


def test_view_modes_and_before_after(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
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
    open_and_wait(qtbot, window, photo)
    raw = window.session.matte.raw.copy()
    window.panel.sliders["feather"].setValue(10)
    assert not np.array_equal(window.session.matte.alpha, raw)
    assert np.array_equal(window.session.matte.raw, raw)
    window.session.set_adjustments(EdgeAdjustments())
    assert np.array_equal(window.session.matte.alpha, raw)
    window.panel.sliders["contrast"].setValue(40)
    window.session.doc.mark_saved()
    open_and_wait(qtbot, window, photo)  # reopening the same photo restores its adjustments
    assert window.session.adjust.contrast == 40 and window.panel.sliders["contrast"].value() == 40


@pytest.mark.parametrize("int8_faster", [True, False])
def test_previews_switch_to_int8_once_quantized_if_faster_full_mattes_stay_fp32(qtbot, window, photo, monkeypatch,
                                                                                int8_faster):
    monkeypatch.setattr("matting_gui.gui.controllers.matte.PREVIEW_PIXELS", 60 * 80)  # the 160x120 photo gets previews
    from matting_gui.core.nets.quantize import QuantizedMatting

    def fake_time(model, image, trimap, device, repeats=3):  # this host's timing, made deterministic
        return (0.05 if int8_faster else 0.2) if isinstance(model, QuantizedMatting) else 0.1

    monkeypatch.setattr("matting_gui.core.inference.predictor.time_forward", fake_time)
    res = open_and_wait(qtbot, window, photo)
    assert res.result.precision == "fp32"
    pred = window.service.predictors.get(window.session.model, window.session.device)
    assert pred.wait_int8(timeout=120)  # built in the background after the first load
    assert pred.prefers_int8 is int8_faster
    window.session.set_tool("unknown")
    shown = []
    window.matteShown.connect(shown.append)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        stroke(qtbot, window, [(70, 60), (80, 60), (90, 60)])  # stroke end: a preview, then the full matte
    previews = [r for r in shown if r.job.stamp.preview]
    assert previews and all(r.result.precision == ("int8" if int8_faster else "fp32") for r in previews)
    assert shown[-1].result.precision == "fp32" and not shown[-1].job.stamp.preview


def test_the_matte_follows_the_brush_during_a_stroke(qtbot, window, photo, monkeypatch):
    """Issue 16: previews of the stroke being painted are shown while the button is still down."""
    monkeypatch.setattr("matting_gui.gui.controllers.matte.PREVIEW_PIXELS", 60 * 80)  # the photo gets previews
    open_and_wait(qtbot, window, photo)
    c = window.canvas
    window.session.set_tool("unknown")
    window.session.set_brush_radius(4)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 30, 30))
    shown = []
    for k in range(12):
        qtbot.mouseMove(c, widget_point(window, 30 + 8 * k, 30 + 4 * k))
        with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT) as blocker:
            pass  # the throttled preview of this stroke arrives while the button is down
        shown.append((blocker.args[0].job.stamp, window.session.doc.in_stroke))
        if len(shown) >= 2:
            break
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 50, 40))
    assert all(in_stroke and stamp.preview and stamp.stroke == window.session.doc.stroke_id
               for stamp, in_stroke in shown)


def test_a_stroke_that_changes_nothing_still_ends_with_the_full_matte_and_a_clean_document(
        qtbot, window, photo, monkeypatch):
    """The brush over pixels of its own value: its previews are on screen when the button is
    released, and the full matte of the (unchanged) trimap must replace them."""
    monkeypatch.setattr("matting_gui.gui.controllers.matte.PREVIEW_PIXELS", 60 * 80)  # the photo gets previews
    open_and_wait(qtbot, window, photo)
    s, c = window.session, window.canvas
    s.set_tool("background")
    s.set_brush_radius(3)
    before = s.doc.trimap.copy()
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 5, 5))  # the corner is background
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=lambda r: r.job.stamp.preview):
        qtbot.mouseMove(c, widget_point(window, 20, 8))
    assert s.matte.stamp.preview and s.doc.dirty  # painting: a preview on screen
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT,
                          check_params_cb=lambda r: is_full(r) and r.job.stamp.revision == s.doc.revision):
        qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 20, 8))
    assert s.matte_is_current and np.array_equal(s.doc.trimap, before)
    assert not window.actions["undo"].isEnabled() and "*" not in window.windowTitle()


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
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 30, 10))
        qtbot.mouseMove(c, widget_point(window, 90, 60))
        qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 130, 110))
    tri = window.session.doc.trimap
    assert tri[60, 80] == FOREGROUND and tri[5, 5] == BACKGROUND and tri[60, 80 + 35] == UNKNOWN
    assert window.session.doc.can_undo() and window.session.matte.alpha[60, 80] == 1.0
    window.session.set_tool("background")
    stroke(qtbot, window, [(80, 60), (82, 60)])  # strokes refine the selection
    assert window.session.doc.trimap[60, 81] == BACKGROUND
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()
    assert (window.session.doc.trimap == BACKGROUND).all()  # the selection was one undo step


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


def test_esc_cancels_a_select_subject_box_drag(qtbot, window, photo):
    """Issue 48, item 10: Esc while dragging the Select-subject box drops it; releasing selects nothing."""
    open_and_wait(qtbot, window, photo)
    qtbot.keyClick(window.canvas, Qt.Key.Key_S)
    c, before = window.canvas, window.session.doc.trimap.copy()
    with qtbot.assertNotEmitted(c.boxDrawn, wait=200):
        qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 20, 10))
        qtbot.mouseMove(c, widget_point(window, 90, 60))
        qtbot.keyClick(c, Qt.Key.Key_Escape)
        qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 130, 110))
    assert np.array_equal(window.session.doc.trimap, before) and not window.session.doc.can_undo()


def test_a_nearly_empty_selection_is_said_not_silent(qtbot, window, photo, monkeypatch):
    """Select subject on a gray photo selected 0.9 % of the box without a word."""
    from matting_gui.gui.controllers import selection

    open_and_wait(qtbot, window, photo)

    def almost_nothing(image, box=None):
        tri = np.zeros(image.shape[:2], np.uint8)
        tri[60:62, 80:82] = FOREGROUND
        return tri

    monkeypatch.setattr(selection, "select_subject", almost_nothing)
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        assert window.selection.select((20, 20, 120, 80))
    assert "found almost nothing in the box (0.0% of it" in blocker.args[0]
    assert window.session.doc.trimap[60, 80] == FOREGROUND and window.session.doc.can_undo()  # applied, undoable


@pytest.mark.parametrize("button,modifier", [(Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier),
                                             (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier),
                                             (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier)])
def test_fill_with_background_without_alt(qtbot, window, photo, button, modifier):
    """Alt+click never reached the app where the window manager takes it (openbox): a right click and
    Shift+click fill with background too."""
    open_and_wait(qtbot, window, photo)
    window.session.set_tool("fill")
    assert window.session.doc.trimap[60, 80] == FOREGROUND
    qtbot.mouseClick(window.canvas, button, modifier, pos=widget_point(window, 80, 60))
    assert window.session.doc.trimap[60, 80] == BACKGROUND
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=widget_point(window, 80, 60))
    assert window.session.doc.trimap[60, 80] == FOREGROUND  # a plain click: foreground


def test_large_photos_render_whole_frames_off_the_ui_thread(qtbot, window, photo, monkeypatch):
    """At 24 MP a view switch, a slider or a new matte froze the window for 1-3 s: whole frames of large
    photos are rendered in a thread, and strokes painted meanwhile survive the frame that lands."""
    import threading

    from matting_gui.core.editing.session import EditorSession
    from matting_gui.gui.controllers import display
    from matting_gui.gui.convert import qimage_to_rgb
    from matting_gui.gui.widgets import canvas

    monkeypatch.setattr(display, "SYNC_PIXELS", 0)  # the 160×120 test photo counts as large
    monkeypatch.setattr(canvas, "PYRAMID_MIN_PIXELS", 0)  # with the downscaled copies of large photos
    open_and_wait(qtbot, window, photo)
    threads = []
    real = EditorSession.render

    def spy(self, out, rect=None):
        threads.append((threading.current_thread() is threading.main_thread(), rect is None))
        return real(self, out, rect)

    monkeypatch.setattr(EditorSession, "render", spy)
    with qtbot.waitSignal(window.display.framed, timeout=TIMEOUT):
        window.session.set_view(mode="alpha")
        assert window.display.busy  # returned at once; the frame comes later
    assert (False, True) in threads and (True, True) not in threads  # whole frames: never on the UI thread
    shown = qimage_to_rgb(window.canvas.image())
    assert shown[60, 80].min() == 1.0 and shown[0, 0].max() == 0.0  # the alpha view
    with qtbot.waitSignal(window.display.framed, timeout=TIMEOUT):
        window.panel.sliders["feather"].setValue(6)  # the adjusted matte is computed in the thread too
    feathered = qimage_to_rgb(window.canvas.image())
    assert not np.array_equal(feathered, shown)
    window.session.set_view(mode="trimap")
    window.session.set_tool("background")
    stroke(qtbot, window, [(80, 60), (82, 60)])  # painted (on the UI thread) while the trimap frame renders
    qtbot.waitUntil(lambda: not window.display.busy, timeout=TIMEOUT)
    final = qimage_to_rgb(window.canvas.image())
    expected = np.zeros((120, 160, 4), np.uint8)
    real(window.session, expected)  # what a synchronous render of the whole view gives now
    assert np.array_equal((final * 255).round().astype(np.uint8), expected[..., 2::-1])
    finer = expected[..., 2::-1]  # the downscaled copies the canvas draws zoomed out match the frame
    for factor, level in window.canvas.levels():
        h, w = level.shape[:2]
        finer = cv2.resize(np.ascontiguousarray(finer[: 2 * h, : 2 * w]), (w, h), interpolation=cv2.INTER_AREA)
        assert factor in (2, 4, 8) and np.abs(level.astype(int) - finer).max() <= 1
