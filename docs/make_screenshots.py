"""Render README screenshots of the main window in its main states (offscreen).

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py

Opens the bundled sample with the weights in models/, waits for each full
matte, and writes docs/images/screenshot_*.png.
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
        if not res.job.preview:
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
        if window is None or not window.busy_bar.isVisible():
            return
        loop = QEventLoop()
        QTimer.singleShot(100, loop.quit)
        loop.exec()


def main() -> None:
    from matting_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    w.resize(1280, 820)
    w.show()
    w.open_sample()
    wait_full(w)
    out = HERE / "images"
    settle(window=w)
    w.grab().save(str(out / "screenshot_trimap.png"))
    w.set_view_mode("alpha")
    settle(window=w)
    w.grab().save(str(out / "screenshot_alpha.png"))
    w.bg_combo.setCurrentText("blurred")
    w.set_view_mode("composite")
    wait_full(w)  # decontaminated foreground is computed for the composite view
    settle(window=w)
    w.grab().save(str(out / "screenshot_composite.png"))
    w.model_combo.setCurrentText("teacher")
    wait_full(w)
    settle(window=w)
    w.grab().save(str(out / "screenshot_teacher.png"))
    w.doc.mark_saved()
    w.close()
    app.processEvents()
    print("\n".join(str(p) for p in sorted(out.glob("screenshot_*.png"))))


if __name__ == "__main__":
    main()
