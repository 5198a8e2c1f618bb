"""Page faults, time and memory of repeated mattes with glibc's default malloc settings and with
``allocator.keep_freed_memory`` (what the app, ``matting-cli`` and ``matting-lab`` set at start).

    python bench/allocator.py [--threads 2] [--sizes 1mp,24mp] [--models student,teacher]
                              [--repeats 7] [--rounds 3]

Each case runs in a fresh process, the mattes either on the main thread (as the CLI computes them)
or on a second thread (as the app's inference worker does); ``--rounds`` alternates the settings so
that a noisy machine hurts both alike. Per matte: the median wall time over all rounds, minor page
faults and system CPU time (the kernel's share: faulting in and zeroing pages), the process's peak
RSS and its RSS after the last matte (what it keeps). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

from latency import SIZES, _inputs


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _case(model: str, size: str, threads: int, repeats: int, tuned: bool, worker: bool, queue) -> None:
    from matting_gui.core.inference.allocator import keep_freed_memory

    applied = keep_freed_memory() if tuned else False
    import threading

    import torch

    from matting_gui.core.inference.predictor import Predictor

    torch.set_num_threads(threads)
    image, trimap = _inputs(*SIZES[size])
    pred = Predictor(model, "cpu", threads=threads)
    result = {}

    def body() -> None:
        pred.predict(image, trimap)  # warm-up: first-call allocations and oneDNN primitives
        pred.predict(image, trimap)
        before = resource.getrusage(resource.RUSAGE_SELF)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            pred.predict(image, trimap)
            times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_SELF)
        result.update(times=times, faults=(after.ru_minflt - before.ru_minflt) / repeats,
                      sys_ms=(after.ru_stime - before.ru_stime) / repeats * 1000)

    if worker:
        thread = threading.Thread(target=body)
        thread.start()
        thread.join()
    else:
        body()
    result.update(applied=applied, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  resident_mb=_resident_mb())
    queue.put(result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="1mp")
    ap.add_argument("--models", default="student,teacher")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    cases = [(m, s, w, t) for m in args.models.split(",") for s in args.sizes.split(",")
             for w in (False, True) for t in (False, True)]
    runs: dict[tuple, list[dict]] = {c: [] for c in cases}
    for _ in range(args.rounds):
        for case in cases:
            model, size, worker, tuned = case
            q = ctx.Queue()
            p = ctx.Process(target=_case, args=(model, size, args.threads, args.repeats, tuned, worker, q))
            p.start()
            r = q.get()
            p.join()
            runs[case].append(r)
    print(f"torch threads {args.threads}, {args.repeats} mattes × {args.rounds} rounds per row\n")
    print("| model | photo | mattes on | malloc | median | page faults / matte | system CPU / matte | "
          "peak RSS | RSS after |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for case, rs in runs.items():
        model, size, worker, tuned = case
        times = [t for r in rs for t in r["times"]]
        setting = "kept (`keep_freed_memory`)" if all(r["applied"] for r in rs) else \
            ("requested, not applied" if tuned else "glibc defaults")
        print(f"| {model} | {size} | {'worker thread' if worker else 'main thread'} | {setting} | "
              f"{statistics.median(times) * 1000:.0f} ms | {statistics.median(r['faults'] for r in rs):,.0f} | "
              f"{statistics.median(r['sys_ms'] for r in rs):.0f} ms | "
              f"{max(r['peak_mb'] for r in rs):.0f} MB | {max(r['resident_mb'] for r in rs):.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
