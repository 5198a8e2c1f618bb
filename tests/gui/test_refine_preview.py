"""*Refine edges* in the editor: the network's matte first, then its refinement (export's *Refine
edges*), remembered across sessions, and never in the way of the next edit."""

import threading
import time

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Qt, Signal

from matting_gui.core.editing.trimap import FOREGROUND, UNKNOWN
from matting_gui.core.inference import refine
from matting_gui.core.inference.predictor import Predictor
from matting_gui.core.nets.model_files import EXPORT_STEPS
from matting_gui.gui.controllers import selection
from tests.gui.driving import TIMEOUT, export_now, open_and_wait, stroke


def is_refined(res):
    return res.job.stamp.refined


def test_refine_edges_is_on_by_default_shows_the_network_matte_then_export_s_refined_one_and_is_remembered(
        qtbot, make_window, settings, photo):
    settings.remove("refine")  # the app's default (the other GUI tests turn it off: they check the network's matte)
    window = make_window()
    window.show()
    assert window.session.refine and window.actions["refine"].isChecked()
    shown = []
    window.matteShown.connect(shown.append)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined) as blocker:
        assert window.open_photo(photo)
    assert [is_refined(r) for r in shown] == [False, True]  # the network's matte comes first, then its refinement
    res = blocker.args[0]
    assert res.result.refined and res.job.stamp.revision == window.session.doc.revision
    s = window.session
    # the settled matte is export's: the export network (the teacher) with export's default steps
    expected = Predictor("teacher", "cpu").predict(s.photo.rgb, s.doc.trimap, **EXPORT_STEPS).alpha
    np.testing.assert_allclose(s.matte.raw, expected, atol=1e-4)
    assert np.abs(s.matte.raw - shown[0].result.alpha).max() > 0.01
    assert "refined" in window.status.model_label.text()

    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined):
        stroke(qtbot, window, [(20, 20), (60, 20)])  # every edit: the network's matte, then refined
    assert s.matte.stamp.refined and s.matte_is_current

    network_matte = shown[-2].result.alpha  # the stroke's network matte, before its refinement
    submitted = []
    window.service.submitted.connect(submitted.append)
    qtbot.keyClick(window, Qt.Key.Key_R)  # off: the network's own matte comes back at once, not recomputed
    assert not s.refine and not s.matte.stamp.refined and not window.actions["refine"].isChecked()
    assert np.array_equal(s.matte.raw, network_matte) and s.matte_is_current
    assert "refined" not in window.status.model_label.text() and "full" in window.status.model_label.text()
    qtbot.wait(300)  # longer than the edit debounce: a recomputation would have been submitted by now
    assert submitted == []
    assert not make_window().session.refine  # remembered off in a new session ...
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined):
        qtbot.keyClick(window, Qt.Key.Key_R)
    again = make_window()  # ... and on again
    assert again.session.refine and again.actions["refine"].isChecked()


class SlowRefinement(QObject):
    """Stands in for ``refine.guided_closed_form``: while ``slow``, a refinement that runs until its
    ``abort`` answers True (as the real solve asks at every step), then gives way; otherwise the real one."""

    started = Signal()  # emitted from the worker thread: delivered on the UI thread

    def __init__(self):
        super().__init__()
        self.real, self.slow, self.aborted = refine.guided_closed_form, True, 0

    def __call__(self, image, trimap, prior, abort=None, **settings):
        if not self.slow:
            return self.real(image, trimap, prior, abort=abort, **settings)
        self.started.emit()
        deadline = time.monotonic() + TIMEOUT / 1000
        while not abort():
            assert time.monotonic() < deadline, "the refinement was never superseded"
            threading.Event().wait(0.005)
        self.slow = False
        self.aborted += 1
        raise refine.RefineAborted("superseded")


def test_an_edit_while_a_refinement_runs_supersedes_it_at_once(qtbot, window, photo, monkeypatch):
    """A refinement takes seconds on a real photo: the next stroke's matte must not wait for it."""
    probe = SlowRefinement()
    monkeypatch.setattr(refine, "guided_closed_form", probe)
    open_and_wait(qtbot, window, photo)
    with qtbot.waitSignal(probe.started, timeout=TIMEOUT):
        window.actions["refine"].trigger()
    shown = []
    window.matteShown.connect(shown.append)
    window.session.set_tool("unknown")
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT,
                          check_params_cb=lambda r: is_refined(r) and r.job.stamp.revision == window.session.doc.revision):
        stroke(qtbot, window, [(30, 90), (120, 90)])
    assert probe.aborted == 1  # the first refinement gave way ...
    assert all(r.job.stamp.revision == window.session.doc.revision for r in shown)  # ... and never showed
    assert [is_refined(r) for r in shown][-2:] == [False, True]
    assert (window.session.doc.trimap[90, 30:120] == UNKNOWN).all()


def test_a_refinement_gives_way_to_an_export_and_to_closing_the_window(qtbot, window, photo, monkeypatch, tmp_path):
    probe = SlowRefinement()
    monkeypatch.setattr(refine, "guided_closed_form", probe)
    open_and_wait(qtbot, window, photo)
    with qtbot.waitSignal(probe.started, timeout=TIMEOUT):
        window.actions["refine"].trigger()
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as blocker:
        export_now(window, tmp_path, matte=True, cutout=False, composite=False)
    assert probe.aborted == 1 and [p.name for p in blocker.args[0]] == ["x_matte.png"]

    probe.slow = True
    with qtbot.waitSignal(probe.started, timeout=TIMEOUT):
        window.session.set_model("teacher")  # a new matte, refined after it
    window.close()  # joins the worker: returns once the refinement has given way
    assert probe.aborted == 2 and not window.isVisible()


def test_a_refinement_gives_way_to_select_subject_and_comes_back_if_it_changes_nothing(
        qtbot, window, tmp_path, monkeypatch):
    """Select subject runs in its own thread; a refinement running meanwhile would slow it down."""
    yy, xx = np.mgrid[0:120, 0:160]
    r = np.hypot(yy - 60, xx - 80)
    img = np.where((r < 35)[..., None], (0.85, 0.2, 0.15), (0.25, 0.35, 0.55))
    photo = tmp_path / "disc.png"
    Image.fromarray((img * 255).astype(np.uint8)).save(photo)
    Image.fromarray(np.where(r < 20, FOREGROUND, np.where(r < 50, UNKNOWN, 0)).astype(np.uint8)).save(
        tmp_path / "disc_trimap.png")  # a wide painted band: Select subject changes it
    probe = SlowRefinement()
    monkeypatch.setattr(refine, "guided_closed_form", probe)
    real_select, gave_way = selection.select_subject, []

    def select_subject(*args):  # GrabCut, once the running refinement has given way (or after TIMEOUT)
        deadline = time.monotonic() + TIMEOUT / 1000
        while probe.slow and time.monotonic() < deadline:
            threading.Event().wait(0.005)
        gave_way.append(not probe.slow)
        return real_select(*args)

    monkeypatch.setattr(selection, "select_subject", select_subject)
    open_and_wait(qtbot, window, photo)
    s = window.session
    with qtbot.waitSignal(probe.started, timeout=TIMEOUT):
        window.actions["refine"].trigger()
    revision = s.doc.revision
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined):
        assert window.selection.select((30, 10, 100, 100))  # a box round the disc
    assert gave_way == [True] and probe.aborted == 1  # it gave way as the selection started ...
    assert s.doc.revision > revision and s.matte_is_current and s.matte.stamp.refined  # ... whose matte is refined

    probe.slow = True
    with qtbot.waitSignal(probe.started, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo: a matte, then refining
    revision = s.doc.revision
    with qtbot.waitSignal(window.selection.error, timeout=TIMEOUT), \
            qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined):
        assert window.selection.select((0, 0, 12, 12))  # a corner of background: nothing found
    assert gave_way == [True, True] and probe.aborted == 2  # it gave way, and came back: nothing changed
    assert s.doc.revision == revision and s.matte_is_current and s.matte.stamp.refined


def test_the_settled_matte_follows_export_s_remembered_choices(qtbot, make_window, settings, photo, fusion_model):
    """The matte the editor settles on after an edit is what export would write with its remembered choices:
    here the student, no mirror, refined and fused with the solvers by the installed fusion network."""
    settings.remove("refine")
    for key, value in (("export_fuse", "true"), ("export_model", "student"), ("export_mirror", "false")):
        settings.setValue(key, value)
    window = make_window()
    window.show()
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined) as blocker:
        assert window.open_photo(photo)
    res = blocker.args[0].result
    assert res.refined and res.fused
    s = window.session
    expected = Predictor("student", "cpu").predict(s.photo.rgb, s.doc.trimap, refine=True, fuse=True)
    assert expected.fused and not res.mirrored
    np.testing.assert_allclose(s.matte.raw, expected.alpha, atol=1e-4)
