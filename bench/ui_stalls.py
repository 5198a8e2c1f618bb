"""The longest UI-thread stall of each editor action, on the real window (offscreen).

    QT_QPA_PLATFORM=offscreen python bench/ui_stalls.py [--sizes 1mp,24mp] [--refine]

For each photo size: open a generated photo with its trimap, then do each action a user does and
record, with a 5 ms timer on the event loop (``preview.StallMeter``), the longest gap until the
action's effect is on screen: a view switch or a slider change until it is painted, Auto band,
Select subject and Reset until the new trimap's matte is shown, an export until its files are
written. The goal is no stall over 100 ms for any action, at any size. *Refine edges* is off unless
``--refine`` (with it on, a settled matte follows each edit; its worker thread shares the CPU, not
the event loop). The start-up imports (torch, pymatting: ``worker.warm_up``, which the app runs in a
thread once its window shows) are made first; ``bench/startup.py`` times start-up. Prints a
Markdown table: the longest stall per action and size, and how long the action took.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from preview import SIZES, StallMeter, open_editor, wait_for  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from matting_gui.core.files.outputs import OutputRequest  # noqa: E402


def settle(ms: int = 150) -> None:
    """Run the event loop for ``ms`` (deferred paints and queued signals are delivered)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


#: With UI_STALLS_DUMP=<file>, every thread's stack is written there whenever the event loop stalls
#: over 100 ms (faulthandler's watchdog needs no GIL): what the UI thread waited for.
DUMP = os.environ.get("UI_STALLS_DUMP")


def _watch(meter: StallMeter) -> None:
    import faulthandler

    if not hasattr(meter, "dump"):
        meter.dump = open(DUMP, "w")  # noqa: SIM115 - kept open for the watchdog
        meter.timer.timeout.connect(lambda: faulthandler.dump_traceback_later(0.1, file=meter.dump))


def measure(meter: StallMeter, action, done=None) -> tuple[int, float]:
    """(longest stall in ms, seconds) of ``action()`` until ``done()`` holds (None: at once), then 150 ms."""
    if DUMP:
        _watch(meter)
    meter.start()
    t0 = time.perf_counter()
    action()
    if done is not None:
        wait_for(meter.window, done)
    seconds = time.perf_counter() - t0
    settle()
    return meter.stop(), seconds


def run_size(name: str, refine: bool) -> list[tuple[str, int, float]]:
    from matting_gui.gui.worker import warm_up

    warm_up()  # the imports the app makes in a thread once its window shows (bench/startup.py times start-up)

    w, photo = open_editor(name, refine)
    s, meter = w.session, StallMeter()
    meter.window = w
    rows = []

    def current():
        return s.matte_is_current and (not s.refine or s.matte.stamp.refined)

    rows.append(("open photo → matte shown", *measure(meter, lambda: w.open_photo(photo), current)))
    for mode in ("composite", "alpha", "trimap", "photo", "composite"):
        rows.append((f"view → {mode}", *measure(meter, lambda m=mode: s.set_view(mode=m))))
    slider = w.panel.sliders["feather"]
    rows.append(("feather slider moved (5 steps, 30 ms apart)",
                 *measure(meter, lambda: [(slider.setValue(v), settle(30)) for v in (2, 4, 6, 8, 10)])))
    rows.append(("feather slider back to 0", *measure(meter, lambda: slider.setValue(0))))
    s.set_view(mode="trimap")
    rev = s.doc.revision
    rows.append(("Auto band", *measure(meter, w.auto_band, lambda: s.doc.revision != rev and current())))
    rev = s.doc.revision
    rows.append(("Undo", *measure(meter, w.actions["undo"].trigger, lambda: s.doc.revision != rev and current())))
    rev = s.doc.revision
    rows.append(("Select subject, whole photo (Alt+S)",
                 *measure(meter, w.actions["select_all"].trigger, lambda: s.doc.revision != rev and current())))
    rev = s.doc.revision
    rows.append(("Reset trimap", *measure(meter, w.actions["reset"].trigger, lambda: s.doc.revision != rev)))
    w.actions["undo"].trigger()
    wait_for(w, current)
    written = []
    w.exported.connect(written.append)
    rows.append(("Export (matte, cutout) → files written",
                 *measure(meter, lambda: w.exports.export(photo.parent / "out", "x", OutputRequest(cutout=True),
                                                          mirror=False, refine=False), lambda: bool(written))))
    s.doc.mark_saved()
    w.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1mp,24mp")
    ap.add_argument("--refine", action="store_true", help="Refine edges on (the app's default)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    sizes = args.sizes.split(",")
    results = {name: run_size(name, args.refine) for name in sizes}
    print(f"refine edges {'on' if args.refine else 'off'}; load {os.getloadavg()[0]:.2f}\n")
    print("| action | " + " | ".join(f"{n} ({SIZES[n][0]}×{SIZES[n][1]}): longest stall, time" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for i, (action, _, _) in enumerate(results[sizes[0]]):
        cells = []
        for n in sizes:
            _, stall, seconds = results[n][i]
            cells.append(f"{'**' if stall > 100 else ''}{stall} ms{'**' if stall > 100 else ''}, {seconds:.2f} s")
        print(f"| {action} | " + " | ".join(cells) + " |")
    app.processEvents()


if __name__ == "__main__":
    main()
