"""Training throughput: samples/hour for teacher, student and student + each distillation kind.

    python bench/train_throughput.py [--threads 1] [--batch 8] [--size 256] [--steps 6]
        [--teacher teacher_lite] [--student student_fast] [--kinds none,output,spatial+channel+output]

Times full optimisation steps (forward, losses, backward, AdamW) on random inputs,
channels_last, after 2 warm-up steps; the teacher forward for distillation is
included. The defaults are the shipped pair's presets (random weights: the time is the
same). Also times sample generation (the DataLoader's per-sample work). Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from matting_gui.core.nets.config import preset as net_preset
from matting_gui.core.nets.network import build_network, fuse_for_inference
from matting_gui.core.nets.synthetic import generated_backgrounds
from matting_gui.research.distill import Distiller, parse_kinds
from matting_gui.research.losses import matting_loss
from matting_gui.research.train import StudentWithDistiller


def fake_batch(b: int, s: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "inputs": torch.randn(b, 8, s, s, generator=g).contiguous(memory_format=torch.channels_last),
        "alpha": torch.rand(b, 1, s, s, generator=g),
        "unknown": (torch.rand(b, 1, s, s, generator=g) > 0.5).float(),
        "image": torch.rand(b, 3, s, s, generator=g),
        "fg": torch.rand(b, 3, s, s, generator=g),
        "bg": torch.rand(b, 3, s, s, generator=g),
        "has_fb": torch.ones(b),
    }


def time_variant(preset: str, teacher_preset: str, kd: tuple[str, ...], batch: int, size: int, steps: int) -> list[float]:
    """Seconds per optimisation step of ``preset`` distilled from ``teacher_preset`` with ``kd`` (after 2 warm-ups)."""
    cfg, t_cfg = net_preset(preset), net_preset(teacher_preset)
    net = build_network(cfg)
    teacher = fuse_for_inference(build_network(t_cfg)).to(memory_format=torch.channels_last).eval() if kd else None
    feat = [k for k in kd if k != "output"]
    distiller = Distiller(feat, cfg.widths, t_cfg.widths) if feat else None
    module = StudentWithDistiller(net, distiller).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(module.parameters(), 1e-3)
    batch_data = fake_batch(batch, size)
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        t_feats = t_alpha = None
        if teacher is not None:
            with torch.inference_mode():
                t = teacher(batch_data["inputs"])
            t_alpha = t.alpha.clone() if "output" in kd else None
            t_feats = tuple(f.clone() for f in t.features) if distiller else None
        out, kd_terms = module(batch_data["inputs"], t_feats)
        loss = matting_loss(out.alpha, batch_data, teacher_alpha=t_alpha)["total"] + kd_terms.get("kd_total", 0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return times


def time_samples(size: int, count: int = 60) -> float:
    """Seconds per generated training sample (synthetic + shared data when present)."""
    from matting_gui.core.files.paths import data_root
    from matting_gui.research.data.samples import MattingSamples

    subjects, bgs = [], generated_backgrounds(0)
    if (data_root() / "alphamatting").is_dir():
        from matting_gui.research.data.sources import background_paths, load_backgrounds, load_split, load_subjects

        subjects = load_subjects(load_split()["train"])
        bgs = load_backgrounds(background_paths("train")[:50])
    ds = MattingSamples(subjects, bgs, size, seed=0)
    ds[0]
    t0 = time.perf_counter()
    for i in range(1, count + 1):
        ds[i]
    return (time.perf_counter() - t0) / count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--teacher", default="teacher_lite", help="teacher preset (timed alone and as the distillation source)")
    ap.add_argument("--student", default="student_fast", help="student preset")
    ap.add_argument("--kinds", default="none,output,attention,batch,spatial,channel,spatial+channel+output",
                    help="comma-separated distillation settings to time for the student")
    args = ap.parse_args()
    kinds = [parse_kinds(k) for k in args.kinds.split(",")]
    torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), batch {args.batch}, {args.size}x{args.size}, channels_last, fp32\n")
    print("| model | distillation | s/step (median) | spread | samples/hour |")
    print("|---|---|---:|---:|---:|")
    variants = [(args.teacher, ())] + [(args.student, kd) for kd in kinds]
    for preset, kd in variants:
        times = time_variant(preset, args.teacher, kd, args.batch, args.size, args.steps)
        med = statistics.median(times)
        spread = (max(times) - min(times)) / 2
        print(f"| {preset} | {'+'.join(kd) or 'none'} | {med:.3f} | ±{spread:.3f} | {args.batch * 3600 / med:,.0f} |",
              flush=True)
    per = time_samples(args.size)
    print(f"\nsample generation: {per * 1000:.1f} ms/sample in one process "
          f"({3600 / per:,.0f} samples/hour per DataLoader worker)")


if __name__ == "__main__":
    main()
