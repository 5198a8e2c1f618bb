"""*Refine edges* in the real editor (offscreen), on real photos: how long until the refined matte
is on screen, and how long the next stroke waits when it starts while a refinement runs.

    QT_QPA_PLATFORM=offscreen python bench/refine_live.py [--models student,teacher] [--subjects GT01,GT10]
        [--strokes 3] [--scale 1.0]

Needs the matting data (``MATTING_DATA``, default ../shared/data): each v2 validation photo with its
wide painted-style trimap (``--scale`` resizes both, bicubic / nearest), saved as a PNG with its
sidecar trimap and opened in the editor with *Refine edges* on. Each stroke paints a short
line near the photo's top-left corner, unknown and background in turn; timed from the mouse release until the
network's matte of the new trimap is on screen, and until its refinement is. Then, half that
refinement's time after the next network matte is shown (its refinement running, most often in its
longest step, the incomplete Cholesky factorisation), a second stroke starts: the time from its
mouse press until its first matte is shown, against the same stroke with the worker idle.
Medians over ``--strokes``. Prints a Markdown table.
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

from matting_gui.core.inference.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()  # as matting-gui does at start, before Qt and torch start threads

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from preview import StallMeter, mouse, wait_for  # noqa: E402
from PySide6.QtCore import QEventLoop, QPoint, QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def save_photo(folder: Path, item, scale: float) -> Path:
    """The validation photo and its trimap as the editor's PNG + sidecar trimap; returns the photo's path."""
    image, trimap = item.image, item.trimap
    if scale != 1.0:
        size = (round(trimap.shape[1] * scale), round(trimap.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).clip(0, 1)
        trimap = cv2.resize(trimap, size, interpolation=cv2.INTER_NEAREST)
    path = folder / (item.name.replace("/", "_") + ".png")
    Image.fromarray((image * 255 + 0.5).astype(np.uint8)).save(path)
    Image.fromarray(trimap).save(path.with_name(path.stem + "_trimap.png"))
    return path


def pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def paint(w, row: int, press_only: bool = False) -> None:
    """A short stroke along canvas row ``row`` near the left edge (press, 6 moves, release), with the
    unknown and the background brush in turn, so that every stroke changes the trimap."""
    c, s = w.canvas, w.session
    s.set_tool("background" if s.tool == "unknown" else "unknown")
    pts = [QPoint(c.offset.toPoint().x() + 10 + 8 * k, row) for k in range(7)]
    mouse(c, QMouseEvent.Type.MouseButtonPress, pts[0])
    for p in pts[1:]:
        mouse(c, QMouseEvent.Type.MouseMove, p)
    if not press_only:
        mouse(c, QMouseEvent.Type.MouseButtonRelease, pts[-1])


def run_photo(path: Path, model: str, strokes: int) -> dict:
    from matting_gui.gui.main_window import MainWindow

    settings = QSettings(str(path.with_suffix(".ini")), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    w.resize(1280, 800)
    w.show()
    s = w.session
    s.set_model(model)
    s.set_refine(True)
    w.open_photo(path)
    wait_for(w, lambda: s.matte is not None and s.matte.stamp.refined and s.matte_is_current)
    pred = w.service.predictors.get(s.model, s.device)
    wait_for(w, lambda: pred.wait_int8(0))  # int8 is built and timed after loading: not while timing
    s.set_tool("background")
    s.set_brush_radius(4)
    top = int(w.canvas.offset.y()) + 12
    network, refined, idle, busy, stall = [], [], [], [], []
    for _ in range(strokes):
        meter = StallMeter()
        meter.start()
        paint(w, top)
        t0, rev = time.perf_counter(), s.doc.revision
        wait_for(w, lambda r=rev: s.matte.stamp.revision == r and s.matte_is_current)
        network.append(time.perf_counter() - t0)
        wait_for(w, lambda r=rev: s.matte.stamp.revision == r and s.matte.stamp.refined)
        refined.append(time.perf_counter() - t0)
        stall.append(meter.stop())
        halfway = round((refined[-1] - network[-1]) * 500)  # ms: half this refinement's time
        for waits, running in ((idle, False), (busy, True)):
            paint(w, top)  # a stroke, then: the next one starts with the worker idle or refining
            rev = s.doc.revision
            wait_for(w, lambda r=rev: s.matte.stamp.revision == r and s.matte_is_current)
            if running:
                pause(halfway)  # the refinement of that matte is under way
            else:
                wait_for(w, lambda r=rev: s.matte.stamp.refined)
            t0 = time.perf_counter()
            paint(w, top, press_only=True)
            wait_for(w, lambda r=rev: s.matte.stamp.revision > r)
            waits.append(time.perf_counter() - t0)
            mouse(w.canvas, QMouseEvent.Type.MouseButtonRelease, QPoint(w.canvas.offset.toPoint().x() + 58, top))
            wait_for(w, lambda: s.matte.stamp.refined and s.matte_is_current)
    s.doc.mark_saved()
    w.close()
    h, wd = s.photo.rgb.shape[:2]
    return {"size": f"{wd}×{h}", "network": network, "refined": refined, "idle": idle, "busy": busy,
            "stall": max(stall)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="student,teacher")
    ap.add_argument("--subjects", default="GT01,GT02,GT10,GT18,GT26")
    ap.add_argument("--strokes", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    from matting_gui.research.data.validation import build_validation_set

    items = [i for i in build_validation_set("v2") if i.kind == "wide" and i.name.split("/")[0] in args.subjects.split(",")]
    if not items:
        raise SystemExit(f"no v2 validation photos match {args.subjects}")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp())
    print(f"torch threads {__import__('torch').get_num_threads()}; wide trimaps; medians (max) of {args.strokes} strokes\n")
    print("| model | photo | size | stroke end → network matte | → refined matte | longest stall "
          "| next stroke's first matte: worker idle | … while refining |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    ms = lambda v: f"{statistics.median(v) * 1000:.0f} ms ({max(v) * 1000:.0f})"  # noqa: E731
    for model in args.models.split(","):
        for item in items:
            r = run_photo(save_photo(folder, item, args.scale), model, args.strokes)
            print(f"| {model} | {item.name.split('/')[0]} | {r['size']} | {ms(r['network'])} | {ms(r['refined'])} | "
                  f"{r['stall']} ms | {ms(r['idle'])} | {ms(r['busy'])} |", flush=True)
    app.processEvents()


if __name__ == "__main__":
    main()
