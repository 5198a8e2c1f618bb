"""The matte follows the brush: a 4 s continuous stroke at 60 Hz on a 1 MP photo in alpha view shows
at least 4 matte updates while the button is down (issue 16). Driven with real mouse events through
the event loop (the same under Xvfb: ``xvfb-run -a env QT_QPA_PLATFORM=xcb pytest tests/gui/test_live_matte.py``)."""

import numpy as np
from PIL import Image
from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.conftest import make_photo, make_trimap


def _mouse(widget, kind, pos):
    """One mouse event, then 16 ms of event loop (a 60 Hz mouse; QTest.qWait would hold the GIL)."""
    buttons = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                                               buttons, Qt.KeyboardModifier.NoModifier))
    loop = QEventLoop()
    QTimer.singleShot(16, loop.quit)
    loop.exec()


def test_a_four_second_stroke_shows_at_least_four_matte_updates(qtbot, window, tmp_path):
    h, w = 834, 1200
    p = tmp_path / "photo.png"
    Image.fromarray((make_photo(h, w) * 255).astype(np.uint8)).save(p)
    Image.fromarray(make_trimap(h, w)).save(tmp_path / "photo_trimap.png")
    with qtbot.waitSignal(window.matteShown, timeout=60000, check_params_cb=lambda r: not r.job.stamp.preview):
        window.open_photo(p)
    window.session.set_view(mode="alpha")
    window.session.set_tool("unknown")
    window.session.set_brush_radius(12)
    during = []
    window.matteShown.connect(lambda r: during.append(r.job.stamp) if window.session.doc.in_stroke else None)
    c = window.canvas
    cx, cy = c.width() // 2, c.height() // 2
    points = [QPoint(int(cx + 150 * np.cos(k / 40)), int(cy + 100 * np.sin(k / 25))) for k in range(240)]
    _mouse(c, QMouseEvent.Type.MouseButtonPress, points[0])
    for pt in points[1:]:
        _mouse(c, QMouseEvent.Type.MouseMove, pt)
    _mouse(c, QMouseEvent.Type.MouseButtonRelease, points[-1])
    assert len(during) >= 4, f"{len(during)} matte updates during a 4 s stroke"
    assert all(s.preview and s.stroke == window.session.doc.stroke_id for s in during)
    revisions = [s.revision for s in during]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)  # each newer than the last
