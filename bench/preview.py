"""Responsiveness of the real editor (offscreen): live mattes while painting, stroke end → matte
painted, and event-loop stalls.

    QT_QPA_PLATFORM=offscreen python bench/preview.py [--sizes 1mp,24mp] [--strokes 5] [--live-seconds 4]
        [--no-refine]

*Refine edges* is on, as the app starts (each full matte is followed by its refinement, which
gives way to the next edit); ``--no-refine`` measures the editor with it off.

Select subject: a box dragged over the middle of the photo, until its full matte is shown.
Live: one continuous stroke at 60 Hz for ``--live-seconds``; counts the mattes put on screen
while the button is still down (previews of that same stroke), per second.

For each photo size: open a generated photo with a trimap, paint a stroke with
simulated mouse events, and time from the mouse release until the first matte of
the new trimap is on screen (the preview for large photos, else the full matte;
previews run the int8 network where it is faster, built and timed in the background after loading),
and until the full-resolution matte is. A 5 ms timer records the longest gap in
the Qt event loop while painting, and separately while opening the photo (until its
first matte is shown): the UI's worst stalls.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from matting_gui.core.inference.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()  # as matting-gui does at start, before Qt and torch start threads

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QPoint, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SIZES = {"1mp": (1200, 834), "4mp": (2400, 1667), "24mp": (6000, 4000)}


def make_photo(folder: Path, w: int, h: int) -> Path:
    rng = np.random.default_rng(0)
    small = (rng.random((h // 50 + 2, w // 50 + 2, 3)) * 255).astype(np.uint8)
    img = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC)).copy()
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - h / 2) / h, (xx - w / 2) / w)
    img[r < 0.27] = (img[r < 0.27] // 4 + np.array([180, 40, 30])).clip(0, 255)  # a reddish subject to select
    path = folder / f"photo_{w}x{h}.png"
    Image.fromarray(img).save(path)
    tri = np.where(r < 0.25, 255, np.where(r < 0.3, 128, 0)).astype(np.uint8)
    Image.fromarray(tri).save(folder / f"photo_{w}x{h}_trimap.png")
    return path


class StallMeter:
    """Longest interval between ticks of a 5 ms timer: how long the event loop was blocked."""

    def __init__(self):
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.worst = 0

    def start(self):
        self.worst = 0
        self.clock.start()
        self.timer.start()

    def _tick(self):
        self.worst = max(self.worst, self.clock.restart())

    def stop(self) -> int:
        self.timer.stop()
        return self.worst


def wait_for(window, predicate, timeout_s=120.0):
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s

    def check(*_):
        if predicate() or time.perf_counter() > deadline:
            loop.quit()

    window.matteShown.connect(check)
    guard = QTimer(interval=50)
    guard.timeout.connect(check)
    guard.start()
    loop.exec()
    guard.stop()
    window.matteShown.disconnect(check)
    if not predicate():  # a wait that never ends is a finding, never a number in a table
        raise RuntimeError(f"waited {timeout_s:.0f} s and the editor never got there")


def mouse(widget, kind, pos):
    """Deliver one mouse event, then let the event loop run for 16 ms, as a 60 Hz mouse would."""
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                     Qt.MouseButton.LeftButton if kind != QMouseEvent.Type.MouseButtonRelease else Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)
    if kind != QMouseEvent.Type.MouseButtonRelease:
        loop = QEventLoop()
        QTimer.singleShot(16, loop.quit)
        loop.exec()


def open_editor(name: str, refine: bool):
    """A shown 1280×800 editor window with its own settings (Refine edges on or off) and the path of a
    fresh photo of size ``name`` (``SIZES``), not yet opened: (window, photo path)."""
    from matting_gui.gui.main_window import MainWindow

    folder = Path(tempfile.mkdtemp())
    photo = make_photo(folder, *SIZES[name])
    settings = QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("refine", "true" if refine else "false")
    w = MainWindow(settings)
    w.resize(1280, 800)
    w.show()
    return w, photo


def run_size(name: str, strokes: int, model: str, live_seconds: float = 4.0, refine: bool = True) -> dict:
    w, photo = open_editor(name, refine)
    s = w.session
    s.set_model(model)
    meter = StallMeter()
    meter.start()
    t_open = time.perf_counter()
    w.open_photo(photo)  # above 1 MP the photo is decoded in a thread
    wait_for(w, lambda: s.matte_is_current)
    open_s, open_stall = time.perf_counter() - t_open, meter.stop()
    pred = w.service.predictors.get(s.model, s.device)
    wait_for(w, lambda: pred.wait_int8(0))  # int8 is built and timed ~3 s after loading; previews use the faster precision
    precisions = set()
    w.matteShown.connect(lambda res: precisions.add(res.result.precision) if res.job.stamp.preview else None)
    c = w.canvas
    s.set_tool("unknown")
    s.set_brush_radius(40 / c.zoom)
    select_s = select_subject_seconds(w)
    s.set_tool("unknown")
    live = live_updates(w, live_seconds)
    wait_for(w, lambda: s.matte_is_current)
    meter.start()
    first, full = [], []
    for i in range(strokes):
        y = c.height() // 2 + (i - strokes // 2) * 20
        pts = [QPoint(c.width() // 2 - 60 + 20 * k, y) for k in range(7)]
        mouse(c, QMouseEvent.Type.MouseButtonPress, pts[0])
        for p in pts[1:]:
            mouse(c, QMouseEvent.Type.MouseMove, p)
        mouse(c, QMouseEvent.Type.MouseButtonRelease, pts[-1])
        t0 = time.perf_counter()
        rev = s.doc.revision
        wait_for(w, lambda r=rev: s.matte is not None and s.matte.stamp.revision == r)
        first.append(time.perf_counter() - t0)
        wait_for(w, lambda r=rev: s.matte_is_current and s.matte.stamp.revision == r)
        full.append(time.perf_counter() - t0)
    stall = meter.stop()
    s.doc.mark_saved()
    w.close()
    h, wd = s.photo.rgb.shape[:2]
    return {"size": name, "first": first, "full": full, "stall_ms": stall, "preview": h * wd > 512 * 512 * 1.5,
            "precision": "+".join(sorted(precisions)), "open_s": open_s, "open_stall_ms": open_stall, "live": live,
            "select_s": select_s}


def select_subject_seconds(w) -> float:
    """Drag a Select-subject box over the middle of the photo; seconds until its full matte is shown."""
    c, s = w.canvas, w.session
    s.set_tool("select")
    rev = s.doc.revision
    t0 = time.perf_counter()
    mouse(c, QMouseEvent.Type.MouseButtonPress, QPoint(c.width() // 4, c.height() // 5))
    mouse(c, QMouseEvent.Type.MouseMove, QPoint(c.width() * 3 // 4, c.height() * 4 // 5))
    mouse(c, QMouseEvent.Type.MouseButtonRelease, QPoint(c.width() * 3 // 4, c.height() * 4 // 5))
    wait_for(w, lambda: s.matte_is_current and s.doc.revision != rev)
    return time.perf_counter() - t0


def live_updates(w, seconds: float) -> float:
    """Paint one continuous stroke at 60 Hz for ``seconds``; mattes shown per second while it lasts."""
    c = w.canvas
    shown = []
    count = lambda res: shown.append(res) if w.session.doc.in_stroke else None  # noqa: E731
    w.matteShown.connect(count)
    steps = int(seconds * 60)
    cx, cy = c.width() // 2, c.height() // 2
    pts = [QPoint(int(cx + 150 * np.cos(k / 40)), int(cy + 100 * np.sin(k / 25))) for k in range(steps)]
    t0 = time.perf_counter()
    mouse(c, QMouseEvent.Type.MouseButtonPress, pts[0])
    for p in pts[1:]:
        mouse(c, QMouseEvent.Type.MouseMove, p)
    elapsed = time.perf_counter() - t0
    mouse(c, QMouseEvent.Type.MouseButtonRelease, pts[-1])
    w.matteShown.disconnect(count)
    return len(shown) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1mp,24mp")
    ap.add_argument("--strokes", type=int, default=5)
    ap.add_argument("--model", default="student")
    ap.add_argument("--live-seconds", type=float, default=4.0)
    ap.add_argument("--refine", action=argparse.BooleanOptionalAction, default=True,
                    help="Refine edges live (the app's default: on)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"model {args.model}; refine edges {'on' if args.refine else 'off'}; "
          f"torch threads {__import__('torch').get_num_threads()}\n")
    print("| photo | select subject: box → matte | mattes shown per second while painting "
          "| stroke end → first matte painted (median, max) "
          "| → full-resolution matte (median, max) | longest event-loop stall | open → matte shown "
          "| longest stall while opening |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.sizes.split(","):
        r = run_size(name, args.strokes, args.model, args.live_seconds, args.refine)
        w, h = SIZES[name]
        kind = f"preview, {r['precision']}" if r["preview"] else "full"
        print(f"| {name} ({w}×{h}) | {r['select_s']:.2f} s | {r['live']:.1f} | {statistics.median(r['first']) * 1000:.0f} ms, "
              f"{max(r['first']) * 1000:.0f} ms ({kind}) | "
              f"{statistics.median(r['full']) * 1000:.0f} ms, {max(r['full']) * 1000:.0f} ms | {r['stall_ms']} ms | "
              f"{r['open_s'] * 1000:.0f} ms | {r['open_stall_ms']} ms |", flush=True)
    app.processEvents()


if __name__ == "__main__":
    main()
