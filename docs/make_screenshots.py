"""Render the README's screenshots (offscreen): the walkthrough select subject → refine the hair
with the unknown brush → composite, and the main views.

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py

Opens the bundled sample photo with an empty trimap (a temporary user data folder) and the
weights in models/, waits for each full matte, and writes docs/images/screenshot_*.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent


def wait_full(window, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()

    def done(res) -> None:
        if not res.job.stamp.preview:
            loop.quit()

    window.matteShown.connect(done)
    window.errorShown.connect(lambda msg: (print("error:", msg, file=sys.stderr), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    window.matteShown.disconnect(done)


def settle(ms: int = 300, window=None) -> None:
    """Let the event loop run ``ms``, then until the worker is idle (no busy bar in the shot)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    for _ in range(600):
        if window is None or not window.status.busy_bar.isVisible():
            return
        loop = QEventLoop()
        QTimer.singleShot(100, loop.quit)
        loop.exec()


def main() -> None:
    os.environ["MATTING_USER_DATA"] = tempfile.mkdtemp()  # no saved trimap of the sample: start from nothing
    from matting_gui.gui.controllers.document import SAMPLE_PHOTO
    from matting_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    w.resize(1280, 820)
    w.show()
    w.open_photo(SAMPLE_PHOTO)
    settle(window=w)
    out = HERE / "images"
    s = w.session
    s.set_tool("select")
    w.selection.select((30, 10, 440, 502))  # what dragging a box around her does
    wait_full(w)
    settle(window=w)
    w.grab().save(str(out / "screenshot_select.png"))
    doc = s.doc

    def stroke(value, radius, pts):  # what dragging the brush along pts (image px) does
        s.set_brush_radius(radius)
        doc.begin_stroke(value)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            doc.paint_segment(x0, y0, x1, y1, s.brush_radius)
        doc.end_stroke()

    stroke(0, 22, [(420, 15), (425, 100), (430, 190)])  # background brush over the rocket
    stroke(255, 40, [(340, 380), (390, 420), (420, 470)])  # foreground brush over the helmet
    s.set_tool("unknown")
    stroke(128, 12, [(205, 115), (198, 70), (222, 38), (258, 28), (292, 40), (306, 75), (302, 112)])  # the hair
    wait_full(w)
    settle(window=w)
    w.grab().save(str(out / "screenshot_trimap.png"))
    s.set_view(mode="alpha")
    settle(window=w)
    w.grab().save(str(out / "screenshot_alpha.png"))
    s.set_view(mode="composite", background="blurred")
    wait_full(w)  # decontaminated foreground is computed for the composite view
    settle(window=w)
    w.grab().save(str(out / "screenshot_composite.png"))
    s.set_model("teacher")
    wait_full(w)
    settle(window=w)
    w.grab().save(str(out / "screenshot_teacher.png"))
    s.doc.mark_saved()
    w.close()
    app.processEvents()
    print("\n".join(str(p) for p in sorted(out.glob("screenshot_*.png"))))


if __name__ == "__main__":
    main()
