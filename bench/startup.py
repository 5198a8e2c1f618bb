"""Startup and quit of the real app: from launch to the window on screen, to the first matte, and from
the window closing to the process gone.

    python bench/startup.py [--runs 5] [--photo PATH]

Each run starts ``matting-gui --sample --self-test 120`` (or ``PHOTO``) offscreen in a fresh process
with its own settings, cache and data folders, and with ``MATTING_TIMINGS=1`` the app prints the wall
clock of each event (``gui/app.py``): window shown, first matte shown, event loop ended (the
self-test closes the window once the first matte is on screen). Prints a Markdown table of the
median and the worst over the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def one_run(photo: str | None) -> dict[str, float]:
    """Seconds from launch to each event, and from the event loop's end to the process's exit."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MATTING_TIMINGS="1", XDG_CONFIG_HOME=tmp,
                   MATTING_CACHE=os.path.join(tmp, "cache"), MATTING_USER_DATA=os.path.join(tmp, "data"))
        args = [sys.executable, "-m", "matting_gui.gui.app", "--self-test", "120"]
        args += [photo] if photo else ["--sample"]
        start = time.time()
        run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        gone = time.time()
    stamps = {}
    for line in run.stdout.splitlines():
        if line.startswith("timing: "):
            event, _, stamp = line[len("timing: "):].rpartition(" ")
            stamps[event] = float(stamp)
    if run.returncode != 0 or len(stamps) < 3:
        raise SystemExit(f"run failed ({run.returncode}): {run.stdout[-500:]} {run.stderr[-1500:]}")
    return {"window": stamps["window shown"] - start, "first matte": stamps["first matte shown"] - start,
            "quit": gone - stamps["event loop ended"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--photo", help="a photo to open instead of the bundled sample")
    args = parser.parse_args()
    runs = [one_run(args.photo) for _ in range(args.runs)]
    print(f"{args.runs} runs, load {os.getloadavg()[0]:.2f}\n")
    print("| event | median (s) | worst (s) |")
    print("|---|---:|---:|")
    labels = {"window": "launch → window shown", "first matte": "launch → first matte shown",
              "quit": "window closed → process gone"}
    for key, label in labels.items():
        values = [r[key] for r in runs]
        print(f"| {label} | {statistics.median(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
