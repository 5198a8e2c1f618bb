"""*Refine edges* in the editor: the network's matte first, then its refinement (export's *Refine
edges*), remembered across sessions, and never in the way of the next edit."""

import threading
import time

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from matting_gui.core import refine
from matting_gui.core.predictor import Predictor
from matting_gui.core.trimap import UNKNOWN
from tests.gui.driving import TIMEOUT, export_now, is_full, open_and_wait, stroke


def is_refined(res):
    return res.job.stamp.refined


def test_refine_edges_shows_the_network_matte_then_export_s_refined_matte_and_is_remembered(
        qtbot, make_window, photo):
    window = make_window()
    window.show()
    first = open_and_wait(qtbot, window, photo)
    assert not first.result.refined and not window.actions["refine"].isChecked()
    shown = []
    window.matteShown.connect(shown.append)
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.session.refine and window.actions["refine"].isChecked() and window.settings.refine
    assert [is_refined(r) for r in shown] == [False, True]  # the network's matte comes first, then its refinement
    res = blocker.args[0]
    assert res.result.refined and res.job.stamp.revision == window.session.doc.revision
    s = window.session
    expected = Predictor("student", "cpu").predict(s.photo.rgb, s.doc.trimap, refine=True).alpha
    np.testing.assert_allclose(s.matte.raw, expected, atol=1e-4)  # what export's Refine edges gives
    assert np.abs(s.matte.raw - shown[0].result.alpha).max() > 0.01
    assert "refined" in window.status.model_label.text()

    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_refined):
        stroke(qtbot, window, [(20, 20), (60, 20)])  # every edit: the network's matte, then refined
    assert window.session.matte.stamp.refined and window.session.matte_is_current

    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full):
        window.actions["refine"].trigger()  # off: the network's own matte comes back
    assert not s.refine and not s.matte.stamp.refined and not window.settings.refine
    window.actions["refine"].trigger()
    again = make_window()  # a new session: the setting is restored
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
