"""Opening, closing and recovering documents in the editor: sidecar trimaps, unsaved-changes
prompts, bad files, settings, crash recovery and background opens of large photos."""

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRectF

from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from matting_gui.gui.widgets.canvas import HINT_BAND
from tests.conftest import make_photo, make_trimap
from tests.gui.driving import TIMEOUT, export_now, is_full, open_and_wait, stroke


def test_open_loads_sidecar_trimap_and_shows_matte(qtbot, window, photo):
    res = open_and_wait(qtbot, window, photo)
    assert window.session.doc.trimap[60, 80] == FOREGROUND and window.session.trimap_path.name == "photo_trimap.png"
    assert res.result.alpha.shape == (120, 160)
    assert window.session.matte.alpha[60, 80] == 1.0 and window.session.matte.alpha[0, 0] == 0.0
    assert "photo.png" in window.windowTitle() and "*" not in window.windowTitle()
    assert window.status.model_label.text().startswith("student")


def test_unsaved_changes_prompt(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
    window.session.set_tool("background")
    stroke(qtbot, window, [(80, 60), (82, 60)])
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
    open_and_wait(qtbot, window, photo)
    window.session.set_tool("background")
    stroke(qtbot, window, [(80, 60), (82, 60)])
    window.prompter.choice = "cancel"
    assert not window.close()
    assert window.isVisible()


def test_bad_file_shows_error_and_keeps_document(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
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
    stroke(qtbot, window, [(200, 150), (220, 150)])
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
    status = window.status  # the whole notice fits the status bar beside its permanent labels (it was cut off)
    taken = sum(w.width() for w in (status.model_label, status.time_label, status.zoom_label) if w.isVisible())
    assert status.fontMetrics().horizontalAdvance(window.statusBar().currentMessage()) < window.width() - taken - 40
    assert window.last_error is None
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        export_now(window, tmp_path)
    assert "cannot export" in blocker.args[0]


def test_trimap_without_foreground_mattes_with_a_hint_once(qtbot, window, tmp_path):
    p = tmp_path / "nofg.png"
    Image.fromarray((make_photo(60, 80) * 255).astype(np.uint8)).save(p)
    tri = np.zeros((60, 80), np.uint8)
    tri[10:50, 20:60] = 128  # the unknown brush over the whole subject, no foreground painted
    Image.fromarray(tri).save(tmp_path / "nofg_trimap.png")
    hints = []
    window.noticeShown.connect(hints.append)
    open_and_wait(qtbot, window, p)  # the matte is computed, and the hint comes with it
    assert len(hints) == 1 and "no foreground is painted" in hints[0]
    assert window.last_error is None and window.session.matte is not None
    window.session.set_tool("unknown")
    window.session.set_brush_radius(3)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        stroke(qtbot, window, [(5, 5), (9, 5)])  # background made unknown
    assert len(hints) == 1  # the same hint is not repeated on every matte
    window.session.set_tool("foreground")
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        stroke(qtbot, window, [(40, 30), (44, 30)])
    assert len(hints) == 1 and (window.session.doc.trimap == FOREGROUND).any()
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        window.session.doc.undo()  # the foreground gone again: the hint comes back
    assert len(hints) == 2 and hints[1] == hints[0]


def _loader_threads_done(qtbot):
    for t in threading.enumerate():
        if t.name == "photo-loader":
            t.join(30)
    qtbot.wait(50)  # deliver their queued results


def test_large_photo_opens_in_the_background_without_edits_meanwhile(qtbot, window, photo, monkeypatch):
    monkeypatch.setattr("matting_gui.gui.controllers.document.BACKGROUND_OPEN_PIXELS", 100)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        assert window.open_photo(photo)  # returns at once: decoding runs in a thread
        assert window.documents.loading_path == photo and not window.canvas.isEnabled()
    assert window.documents.loading_path is None and window.canvas.isEnabled()
    assert window.session.photo.path == photo and window.session.doc.trimap[60, 80] == FOREGROUND  # sidecar trimap came along


def test_background_open_failure_keeps_the_document(qtbot, window, photo, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, photo)
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
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        assert window.open_photo(other)
    _loader_threads_done(qtbot)
    assert window.session.photo.path == other and window.session.photo.rgb.shape == (90, 70, 3) and window.documents.loading_path is None


def test_edits_made_while_a_photo_loads_are_not_silently_dropped(qtbot, window, photo, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, photo)
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


def test_at_an_empty_launch_document_actions_are_disabled(qtbot, make_window, photo):
    """Nothing to undo, save, band or export before a photo is open (issue 16, defect 11)."""
    w = make_window()
    names = ("undo", "redo", "save", "save_as", "export", "auto_band")
    assert not any(w.actions[n].isEnabled() for n in names)
    with qtbot.waitSignal(w.matteShown, timeout=60000):
        w.open_photo(photo)
    assert all(w.actions[n].isEnabled() for n in ("export", "auto_band", "save", "save_as"))


def test_opening_a_photo_in_alpha_view_shows_it_and_clears_the_last_matte_status(qtbot, window, photo, tmp_path):
    """Issue 16, defect 7: no black canvas, no status of the previous photo's matte."""
    open_and_wait(qtbot, window, photo)
    assert window.status.model_label.text()
    window.session.set_view(mode="alpha")
    plain = tmp_path / "plain.png"
    Image.fromarray((make_photo(60, 80, seed=2) * 255).astype(np.uint8)).save(plain)
    with qtbot.waitSignal(window.noticeShown, timeout=TIMEOUT):
        window.open_photo(plain)  # all background: no matte yet
    from matting_gui.gui.convert import qimage_to_rgb

    assert window.status.model_label.text() == "" and window.status.time_label.text() == ""
    assert np.allclose(qimage_to_rgb(window.canvas.image()), window.session.photo.rgb, atol=1 / 255 + 1e-6)


def test_saving_clears_the_title_s_unsaved_mark(qtbot, window, photo, tmp_path):
    """After Ctrl+S or Save As the window title loses its '*' at once (it kept it until the next edit)."""
    open_and_wait(qtbot, window, photo)
    stroke(qtbot, window, [(20, 20), (60, 20)])
    assert window.windowTitle().startswith("photo.png*")
    assert window.documents.save_trimap()
    assert window.windowTitle().startswith("photo.png —")
    stroke(qtbot, window, [(20, 40), (60, 40)])
    window.prompter.files = [str(tmp_path / "other.png")]
    assert window.documents.save_trimap_as()
    assert window.windowTitle().startswith("photo.png —")


def test_a_dropped_file_is_accepted_as_a_copy_never_a_move(qtbot, window, photo):
    """A file manager offering Copy or Move (and proposing Move) is told Copy: the user's photo stays put."""
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    enter = QDragEnterEvent(QPoint(5, 5), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.setDropAction(Qt.DropAction.MoveAction)
    window.dragEnterEvent(enter)
    assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.CopyAction
    drop = QDropEvent(QPoint(5, 5), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    drop.setDropAction(Qt.DropAction.MoveAction)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        window.dropEvent(drop)
    assert drop.dropAction() == Qt.DropAction.CopyAction and photo.exists()
    assert window.session.photo.path == photo


def test_a_sidecar_that_cannot_be_used_is_explained_and_never_overwritten_unasked(qtbot, window, tmp_path):
    """A sidecar whose EXIF orientation makes it mismatch was ignored without a word, and Ctrl+S then
    replaced it."""
    path = tmp_path / "p.png"
    Image.fromarray((make_photo(120, 160) * 255).astype(np.uint8)).save(path)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 160x120 like the photo, oriented 120x160
    sidecar = tmp_path / "p_trimap.png"
    Image.fromarray(make_trimap(120, 160)).save(sidecar, exif=exif)
    before = sidecar.read_bytes()
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        assert window.open_photo(path)
    assert "EXIF orientation 6" in blocker.args[0] and "was not loaded" in blocker.args[0]
    window.session.set_tool("foreground")
    stroke(qtbot, window, [(80, 60), (82, 60)])
    window.prompter.yes = False
    assert not window.documents.save_trimap()
    assert window.prompter.asked[-1] == "Replace file?" and sidecar.read_bytes() == before
    window.prompter.yes = True
    assert window.documents.save_trimap()
    assert sidecar.read_bytes() != before and "*" not in window.windowTitle()
    asked = len(window.prompter.asked)
    stroke(qtbot, window, [(70, 60), (72, 60)])
    assert window.documents.save_trimap() and len(window.prompter.asked) == asked  # its own file now: no question


def test_the_hint_strip_never_covers_the_fitted_photo(qtbot, window, tmp_path):
    for h, w in ((60, 80), (400, 100), (100, 400)):  # landscape, portrait, panorama
        p = tmp_path / f"plain{h}x{w}.png"
        Image.fromarray((make_photo(h, w) * 255).astype(np.uint8)).save(p)
        with qtbot.waitSignal(window.noticeShown, timeout=TIMEOUT):
            window.open_photo(p)  # all background: the first-step hint shows
        c = window.canvas
        assert c.hint
        bottom = c.image_to_widget_rect(QRectF(0, 0, w, h)).bottom()
        assert bottom <= c.height() - HINT_BAND + 4  # the strip starts below the photo
