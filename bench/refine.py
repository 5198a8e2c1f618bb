"""Time of export's *Refine edges* (``refine.guided_closed_form``) on real photos, pinned vs unpinned.

    python bench/refine.py [--subjects GT10,GT26] [--sizes 1,2] [--trimaps trimap2,wide] [--threads 1]

Needs the matting data (``MATTING_DATA``, default ../shared/data): the v2 validation photos are
resized to each size in megapixels (bicubic; trimaps nearest), the shipped teacher's matte is the
prior, and the refinement alone is timed, once with its defaults (the network's confident pixels
pinned) and once as it ran before 2026-12-02 (no pinning, prior 0.0005 · |2α − 1|²). One untimed
warm-up solve first (pymatting compiles its kernels). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import math
import time


def photo_args(doc: str, subjects: str, sizes: str, threads: int) -> argparse.ArgumentParser:
    """The arguments of the benches that time real photos: --subjects, --sizes, --trimaps, --threads."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--subjects", default=subjects)
    ap.add_argument("--sizes", default=sizes, help="megapixels, ','-separated")
    ap.add_argument("--trimaps", default="trimap2,wide", help="validation trimaps: trimap1, trimap2, wide")
    ap.add_argument("--threads", type=int, default=threads)
    return ap


def validation_photos(args) -> list:
    """The v2 validation items (``build_validation_set``) of ``args.subjects`` × ``args.trimaps``."""
    from matting_gui.research.data.validation import build_validation_set

    subjects, trimaps = args.subjects.split(","), args.trimaps.split(",")
    items = [i for i in build_validation_set("v2")
             if i.name.split("/")[0] in subjects and i.name.split("/")[1] in trimaps]
    if not items:
        raise SystemExit(f"no v2 validation photos match {args.subjects} × {args.trimaps}")
    return items


def resized(item, sizes: str):
    """(megapixels, image float32 (h, w, 3), trimap uint8 (h, w)) of ``item`` at each of ``sizes``
    (','-separated megapixels): bicubic image, nearest trimap."""
    import cv2

    for mp in (float(v) for v in sizes.split(",")):
        h, w = item.trimap.shape
        scale = math.sqrt(mp * 1e6 / (h * w))
        size = (round(w * scale), round(h * scale))
        yield (mp, cv2.resize(item.image, size, interpolation=cv2.INTER_CUBIC).clip(0, 1),
               cv2.resize(item.trimap, size, interpolation=cv2.INTER_NEAREST))


def main() -> None:
    args = photo_args(__doc__, "GT10,GT26", "1,2", 1).parse_args()

    import torch

    from matting_gui.core.inference.predictor import Predictor
    from matting_gui.core.inference.refine import guided_closed_form

    torch.set_num_threads(args.threads)
    items = validation_photos(args)
    pred = Predictor("teacher", "cpu", threads=args.threads)
    warm = items[0]
    guided_closed_form(warm.image, warm.trimap, pred.predict(warm.image, warm.trimap).alpha)
    print("| photo, trimap | size | unknown | pinned (default) | unpinned (before 2026-12-02) |")
    print("|---|---|---:|---:|---:|")
    for item in items:
        for mp, image, trimap in resized(item, args.sizes):
            size = trimap.shape[::-1]
            prior = pred.predict(image, trimap).alpha
            t0 = time.perf_counter()
            guided_closed_form(image, trimap, prior)
            pinned = time.perf_counter() - t0
            t0 = time.perf_counter()
            guided_closed_form(image, trimap, prior, strength=0.0005, sharpness=2.0, pin=0.0)
            before = time.perf_counter() - t0
            unknown = ((trimap > 0) & (trimap < 255)).mean()
            print(f"| {item.name} | {size[0]}×{size[1]} ({mp:g} MP) | {unknown:.0%} | {pinned:.1f} s | {before:.1f} s |",
                  flush=True)


if __name__ == "__main__":
    main()
