"""Where export's solver step spends its time: closed-form and KNN matting, step by step.

    python bench/solvers.py [--subjects GT10,GT26] [--sizes 1] [--trimaps trimap2,wide] [--threads 1]
                            [--caps 0.6,0.3,0.15]

Needs the matting data (``MATTING_DATA``, default ../shared/data): v2 validation photos resized to each
size in megapixels. Each solver runs as export runs it (``solvers.solver_matte``: the unknown region's
bounding box, at most ``MAX_SOLVER_PIXELS`` of it), and its steps are timed again one by one on the same
box: the Laplacian, the preconditioner (incomplete Cholesky for closed-form, Jacobi for KNN) and the
conjugate-gradient solve (its iterations in brackets). The last column runs both solvers at once in two
threads, as a two-core machine could. With --caps: instead, each solver with the box capped at each size
(solved smaller and resized back), its time and its SAD against the ground truth: what a faster, smaller
solve costs. One untimed warm-up of each solver first (pymatting compiles its kernels). Prints a Markdown
table.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refine import photo_args, resized, validation_photos  # noqa: E402


def _steps(method: str, image, trimap) -> tuple[float, float, float, int]:
    """(Laplacian s, preconditioner s, CG s, CG iterations) of one solve on the capped box, as export."""
    import cv2
    import numpy as np
    from pymatting import cf_laplacian, cg, jacobi, knn_laplacian, make_linear_system

    from matting_gui.core.inference.refine import quiet_ichol
    from matting_gui.core.inference.solvers import MAX_SOLVER_PIXELS, unknown_box

    y0, y1, x0, x1 = unknown_box(trimap)
    img, tri = image[y0:y1, x0:x1], trimap[y0:y1, x0:x1]
    h, w = tri.shape
    scale = min(1.0, math.sqrt(MAX_SOLVER_PIXELS / (h * w)))
    if scale < 1.0:
        size = (max(3, round(w * scale)), max(3, round(h * scale)))
        img, tri = cv2.resize(img, size, interpolation=cv2.INTER_AREA), cv2.resize(tri, size, interpolation=cv2.INTER_NEAREST)
    img, t = img.astype(np.float64), tri.astype(np.float64) / 255
    t0 = time.perf_counter()
    lap = cf_laplacian(img, is_known=(t <= 0.1) | (t >= 0.9)) if method == "closed_form" else knn_laplacian(img)
    t1 = time.perf_counter()
    a, b = make_linear_system(lap, t)
    m = quiet_ichol(a) if method == "closed_form" else jacobi(a)
    t2 = time.perf_counter()
    count = [0]
    cg(a, b, M=m, maxiter=2000, callback=lambda *_: count.__setitem__(0, count[0] + 1))
    return t1 - t0, t2 - t1, time.perf_counter() - t2, count[0]


def _alpha_at(item, trimap):
    import cv2

    return cv2.resize(item.alpha, trimap.shape[::-1], interpolation=cv2.INTER_AREA)


def steps_table(items, args) -> None:
    """The solvers as export runs them, step by step, and both at once in two threads."""
    from matting_gui.core.inference.solvers import MAX_SOLVER_PIXELS, SOLVERS, solver_matte, unknown_box

    print("| photo, trimap | size | box solved | solver | Laplacian | preconditioner | CG | solve as export "
          "| both, 2 threads |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for item in items:
        for mp, image, trimap in resized(item, args.sizes):
            y0, y1, x0, x1 = unknown_box(trimap)
            box = min((y1 - y0) * (x1 - x0), MAX_SOLVER_PIXELS) / 1e6
            t0 = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(solver_matte, [image] * 2, [trimap] * 2, SOLVERS))
            both = time.perf_counter() - t0
            for method in SOLVERS:
                t0 = time.perf_counter()
                solver_matte(image, trimap, method)
                whole = time.perf_counter() - t0
                lap, pre, cg_s, its = _steps(method, image, trimap)
                print(f"| {item.name} | {mp:g} MP | {box:.2f} MP | {method} | {lap:.1f} s | {pre:.1f} s | "
                      f"{cg_s:.1f} s ({its}) | {whole:.1f} s | {both:.1f} s |", flush=True)


def caps_table(items, args) -> None:
    """Time and SAD (÷ 1000, unknown region, against the resized ground truth) of each solver with the box
    capped at each of ``args.caps`` megapixels: what a smaller solve costs in quality."""
    from matting_gui.core.evaluation.metrics import sad
    from matting_gui.core.inference.solvers import SOLVERS, solver_matte

    caps = [float(v) for v in args.caps.split(",")]
    print("| photo, trimap | size | solver | " + " | ".join(f"{c:g} MP box: time, SAD" for c in caps) + " |")
    print("|---|---|---|" + "---:|" * len(caps))
    for item in items:
        for mp, image, trimap in resized(item, args.sizes):
            alpha = _alpha_at(item, trimap)
            for method in SOLVERS:
                cells = []
                for cap in caps:
                    t0 = time.perf_counter()
                    pred = solver_matte(image, trimap, method, max_pixels=int(cap * 1e6))
                    cells.append(f"{time.perf_counter() - t0:.1f} s, {sad(pred, alpha, trimap):.2f}")
                print(f"| {item.name} | {mp:g} MP | {method} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    ap = photo_args(__doc__, "GT10,GT26", "1", 1)
    ap.add_argument("--caps", help="megapixels, ','-separated: instead of the steps, each solver with its box "
                    "capped at each size, timed and scored")
    args = ap.parse_args()

    import torch

    from matting_gui.core.inference.solvers import SOLVERS, solver_matte

    torch.set_num_threads(args.threads)
    items = validation_photos(args)
    for method in SOLVERS:
        solver_matte(items[0].image[:96, :96], items[0].trimap[:96, :96], method)
    (caps_table if args.caps else steps_table)(items, args)


if __name__ == "__main__":
    main()
