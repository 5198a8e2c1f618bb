"""Latency and peak memory of a full alpha computation, student vs teacher vs closed-form.

    python bench/latency.py [--threads N] [--sizes 512,1mp,4mp,24mp] [--repeats 5]
                            [--models student,student:int8,teacher,teacher:export,teacher:fused,closed-form]
                            [--export-sizes 24mp,110mp] [--export-model teacher]

Each case runs in a fresh process (so peak RSS is its own) through the same
``Predictor`` the app and CLI use: photos above the 2 MP working size are matted
at 2 MP and upsampled with the guided filter. GFLOP/s counts 2 FLOPs per MAC of
the network at the size it actually ran, against a measured fp32 matmul peak of
this machine at the same thread count. Prints a Markdown table.

``--export-sizes`` adds a second table: the peak memory of ``matting-cli matte --cutout
--composite`` (the whole export: decode, matte, foreground colours, three files written) on a
generated JPEG photo of that size, each in a fresh process, with the CLI's default network (the
teacher) unless ``--export-model`` names another.
Every case starts with ``allocator.keep_freed_memory``, as the app and the CLI do
(``bench/allocator.py`` compares it with glibc's defaults).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import statistics
import time

SIZES = {"512": (512, 512), "1mp": (1000, 1000), "4mp": (2000, 2000), "24mp": (6000, 4000),
         "110mp": (12800, 8600)}


def _inputs(w: int, h: int):
    import numpy as np

    rng = np.random.default_rng(0)
    image = rng.random((h, w, 3), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - h / 2) / h, (xx - w / 2) / w)
    trimap = np.where(r < 0.25, 255, np.where(r < 0.32, 128, 0)).astype(np.uint8)
    return image, trimap


def _case(model: str, size: str, threads: int, repeats: int, queue) -> None:
    from matting_gui.core.inference.allocator import keep_freed_memory

    keep_freed_memory()  # as the app and the CLI do at start
    import torch

    torch.set_num_threads(threads)
    w, h = SIZES[size]
    image, trimap = _inputs(w, h)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if model == "closed-form":
        from matting_gui.core.inference.refine import closed_form

        run = lambda: closed_form(image, trimap)  # noqa: E731
        macs = None
        working = (w, h)
    else:
        from matting_gui.core.inference.predictor import Predictor
        from matting_gui.core.nets.model_files import EXPORT_STEPS
        from matting_gui.core.nets.network import count_macs

        # "student:int8" → the static-int8 network; "teacher:export" → export's default steps (EXPORT_STEPS);
        # "teacher:fused" → those plus solver fusion with the installed fusion network
        name, _, variant = model.partition(":")
        pred = Predictor(name, "cpu", threads=threads, precision="int8" if variant == "int8" else "fp32")
        steps = {"export": EXPORT_STEPS, "fused": EXPORT_STEPS | {"fuse": True}}.get(variant, {})
        res = pred.predict(image, trimap, **steps)
        working = res.working_size
        macs = count_macs(pred.model, *[((v + 31) // 32) * 32 for v in working[::-1]])  # fp32 MACs
        run = lambda: pred.predict(image, trimap, **steps)  # noqa: E731
    run()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"model": model, "size": size, "times": times, "peak_mb": peak / 1024,
               "delta_mb": (peak - base_rss) / 1024, "macs": macs, "working": working})


def matmul_peak_gflops(threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    a @ b
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2 * 2048**3 / (time.perf_counter() - t0) / 1e9)
    return best


def export_peak(size: str, threads: int, model: str = "teacher") -> tuple[float, float]:
    """(seconds, peak RSS in MB) of the CLI's full export of a generated photo of ``size`` with ``model``
    (the CLI's default, the teacher, unless told)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import cv2
    import numpy as np

    w, h = SIZES[size]
    folder = Path(tempfile.mkdtemp())
    smooth = cv2.resize(np.random.default_rng(0).random((40, 60, 3)).astype(np.float32), (w, h))
    cv2.imwrite(str(folder / "photo.jpg"), (smooth * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
    del smooth
    yy, xx = np.ogrid[0:h, 0:w]
    r = np.hypot((yy - h / 2) / h, (xx - w / 2) / w)
    cv2.imwrite(str(folder / "trimap.png"), np.where(r < 0.25, 255, np.where(r < 0.32, 128, 0)).astype(np.uint8))
    del r
    code = ("import resource, sys; from matting_gui.cli.main import main; code = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, "matte", str(folder / "photo.jpg"), "--trimap",
                          str(folder / "trimap.png"), "--out", str(folder / "out"), "--cutout", "--composite",
                          "#00ff00", "--threads", str(threads), "--model", model], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, int(out.stdout.split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--sizes", default="512,1mp,4mp,24mp")
    ap.add_argument("--models", default="student,student:int8,teacher,closed-form")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--export-sizes", default="", help="e.g. 24mp,110mp: peak memory of a full CLI export")
    ap.add_argument("--export-model", default="teacher", help="the network of those exports (the CLI's default)")
    args = ap.parse_args()
    threads = args.threads or mp.cpu_count()
    ctx = mp.get_context("spawn")
    peak = matmul_peak_gflops(threads)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {mp.cpu_count()} cores, "
          f"torch threads {threads}, fp32 matmul peak {peak:.0f} GFLOP/s\n")
    print("| model | photo | ran at | median | spread (min–max) | GFLOP/s | % of peak | peak RSS |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for model in args.models.split(","):
        for size in args.sizes.split(","):
            if model == "closed-form" and size in ("4mp", "24mp"):
                print(f"| {model} | {size} | — | not run (sparse solve needs > 10 GB and minutes) | | | | |")
                continue
            q = ctx.Queue()
            p = ctx.Process(target=_case, args=(model, size, threads, args.repeats if size != "24mp" else 3, q))
            p.start()
            p.join()
            if p.exitcode != 0:
                print(f"| {model} | {size} | failed (exit {p.exitcode}) | | | | | |")
                continue
            r = q.get()
            med = statistics.median(r["times"])
            gflops = 2 * r["macs"] / med / 1e9 if r["macs"] else None
            w, h = r["working"]
            print(f"| {model} | {size} ({SIZES[size][0]}×{SIZES[size][1]}) | {w}×{h} | {med * 1000:.0f} ms | "
                  f"{min(r['times']) * 1000:.0f}–{max(r['times']) * 1000:.0f} ms | "
                  f"{gflops:.1f} | {100 * gflops / peak:.0f} % | {r['peak_mb']:.0f} MB |" if gflops else
                  f"| {model} | {size} ({SIZES[size][0]}×{SIZES[size][1]}) | {w}×{h} | {med * 1000:.0f} ms | "
                  f"{min(r['times']) * 1000:.0f}–{max(r['times']) * 1000:.0f} ms | — | — | {r['peak_mb']:.0f} MB |",
                  flush=True)


    if args.export_sizes:
        print(f"\n| export (`matting-cli matte --cutout --composite`, {args.export_model}) | photo | wall time | "
              "peak RSS |")
        print("|---|---|---:|---:|")
        for size in args.export_sizes.split(","):
            seconds, peak_mb = export_peak(size, threads, args.export_model)
            print(f"| matte + cutout + composite | {size} ({SIZES[size][0]}×{SIZES[size][1]}) | {seconds:.1f} s | "
                  f"{peak_mb:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
