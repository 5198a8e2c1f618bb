"""How long *Refine edges* takes: the editor's settled matte, which is export's (the teacher,
mirror-averaged, then refined with closed-form matting where it is unsure), on real photos.

    python bench/settle.py [--subjects GT01,GT10,GT26] [--sizes 0.25,1,2,24] [--trimaps trimap2,wide]
                           [--threads 2]

Needs the matting data (``MATTING_DATA``, default ../shared/data): the v2 validation photos are
resized to each size in megapixels (bicubic; trimaps nearest). Photos above the 2 MP working size
are matted at 2 MP and brought back with the guided filter, as the app does. Each case is timed
once after one untimed warm-up (pymatting compiles its kernels on first use), through the same
``Predictor.predict(**EXPORT_STEPS)`` the app's settle job and export call; the refinement step is
also timed alone. Prints a Markdown table with the unknown area and the seconds per unknown
megapixel (at the working size).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refine import photo_args, resized, validation_photos  # noqa: E402


def main() -> None:
    args = photo_args(__doc__, "GT01,GT10,GT26", "0.25,1,2,24", 2).parse_args()

    import cv2
    import torch

    from matting_gui.core.inference.predictor import Predictor
    from matting_gui.core.inference.refine import RefineSettings, guided_closed_form
    from matting_gui.core.inference.working import working_size
    from matting_gui.core.nets.model_files import EXPORT_STEPS

    torch.set_num_threads(args.threads)
    items = validation_photos(args)
    pred = Predictor("teacher", "cpu", threads=args.threads)
    settings = RefineSettings.from_card(pred.card).as_kwargs()
    pred.predict(items[0].image, items[0].trimap, **EXPORT_STEPS)  # warm-up: pymatting's JIT compile
    print(f"{args.threads} threads, load {os.getloadavg()[0]:.2f}\n")
    print("| photo, trimap | size | working size | unknown | settled matte | of it refinement | refinement per unknown MP |")
    print("|---|---|---|---:|---:|---:|---:|")
    for item in items:
        for mp, image, trimap in resized(item, args.sizes):
            t0 = time.perf_counter()
            res = pred.predict(image, trimap, **EXPORT_STEPS)
            total = time.perf_counter() - t0
            wh, ww = working_size(*trimap.shape, pred.working_pixels)
            tri_w = cv2.resize(trimap, (ww, wh), interpolation=cv2.INTER_NEAREST)
            img_w = cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
            prior = pred.predict(img_w, tri_w, mirror=True).alpha
            t0 = time.perf_counter()
            guided_closed_form(img_w, tri_w, prior, **settings)
            refine = time.perf_counter() - t0
            unknown = float(((tri_w > 0) & (tri_w < 255)).sum())
            assert res.alpha.shape == trimap.shape
            print(f"| {item.name} | {mp:g} MP | {ww}×{wh} | {unknown / (ww * wh):.0%} ({unknown / 1e6:.2f} MP) "
                  f"| {total:.1f} s | {refine:.1f} s | {refine / max(unknown / 1e6, 1e-6):.1f} s |", flush=True)


if __name__ == "__main__":
    main()
