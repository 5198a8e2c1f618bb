"""``matting-lab``: training and experiments (train, report, refine-sweep, kd-diagnostics, ablation,
plot-log). The app's own commands are ``matting-cli`` (``cli/main.py``).

Exit codes: 0 success; 2 bad usage, bad config or unusable weights.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from matting_gui import __version__
from matting_gui.console import print_error, run
from matting_gui.core.files.imageio import ImageError
from matting_gui.core.nets.config import PRESETS
from matting_gui.core.nets.model_files import WeightsError
from matting_gui.research.data.sources import SPLITS


def cmd_train(args) -> int:
    """Train or distil per TrainConfig (TOML file plus command-line overrides)."""
    from matting_gui.research.train import TrainConfig
    from matting_gui.research.train import main as train_main

    overrides = {k: v for k, v in vars(args).items() if k in {f for f in TrainConfig.__dataclass_fields__} and v is not None}
    try:
        cfg = TrainConfig.from_toml(args.config, **overrides) if args.config else TrainConfig.from_dict(overrides)
        summary = train_main(cfg)
    except (ValueError, WeightsError, OSError) as exc:
        print_error(str(exc))
        return 2
    if summary:
        print(json.dumps(summary, indent=2))
    return 0


def cmd_plot_log(args) -> int:
    """Plot a training log.jsonl to a PNG."""
    from matting_gui.research.plot_log import plot_log, plot_validation

    try:
        if len(args.log) == 1:
            out = plot_log(args.log[0], args.out)
        else:  # several runs: their validation curves side by side, labelled by run folder
            labels = args.labels.split(",") if args.labels else [Path(p).parent.name or Path(p).stem for p in args.log]
            if len(labels) != len(args.log):
                print_error(f"--labels has {len(labels)} names for {len(args.log)} logs")
                return 2
            out = plot_validation(dict(zip(labels, args.log)), args.out)
    except (OSError, ValueError, KeyError) as exc:
        print_error(f"{', '.join(args.log)}: {exc}")
        return 2
    print(out)
    return 0


def cmd_report(args) -> int:
    """Evaluate all committed models (and closed-form) on the validation set; print the tables."""
    import torch

    from matting_gui.research.data.validation import build_validation_set, parse_val_kinds, with_kinds
    from matting_gui.research.report import default_models, evaluate_models, markdown, write_json

    try:
        kinds = parse_val_kinds(args.kinds)
    except ValueError as exc:
        print_error(f"--kinds: {exc}")
        return 2

    torch.set_num_threads(args.threads or torch.get_num_threads())
    models = default_models()
    if args.only:
        wanted = [w.strip() for w in args.only.split(";") if w.strip()]
        models = {label: path for label, path in models.items() if label in wanted}
    for spec in args.model or []:
        label, _, path = spec.partition("=")
        models[label] = Path(path or label)
    if not models:
        print_error("no weights found in models/ (and none given with --model LABEL=PATH)")
        return 2
    try:
        items = with_kinds(build_validation_set(args.split), kinds)
        rows = evaluate_models(models, include_closed_form=not args.no_closed_form, items=items,
                               int8=() if args.no_variants else ("student, distilled",),
                               mirror=() if args.no_variants else ("teacher", "student, distilled"),
                               refine=tuple(args.refine or ()), exported=tuple(args.exported or ()))
    except (WeightsError, ImageError, OSError) as exc:
        print_error(str(exc))
        return 2
    text = markdown(rows)
    print(text)
    if args.json:
        write_json(rows, args.json)
    return 0


def cmd_refine_sweep(args) -> int:
    """Validation scores of one model refined at several prior strengths (chose refine's defaults)."""
    import torch

    from matting_gui.research.data.validation import build_validation_set
    from matting_gui.research.report import refine_sweep

    torch.set_num_threads(args.threads or torch.get_num_threads())
    try:
        strengths = tuple(float(v) for v in args.strengths.split(","))
        sharpness = tuple(float(v) for v in args.sharpness.split(","))
        given = {k: v for k, v in (("pin", args.pin), ("grow", args.grow)) if v is not None}  # else refine's defaults
        rows = refine_sweep(Path(args.model), build_validation_set(args.split), strengths, sharpness, args.reach, **given)
    except (WeightsError, ImageError, OSError, ValueError) as exc:
        print_error(str(exc))
        return 2
    kinds = [k for k in ("photo", "wide", "composite", "all") if k in rows[0]["metrics"]]
    print("| strength | sharpness | " + " | ".join(f"{k} SAD / Grad" for k in kinds) + " |")
    print("|---|---|" + "---:|" * len(kinds))
    def setting(r: dict) -> str:
        label = "network alone" if r["strength"] is None else f"{r['strength']:g}"
        return f"| {label} | {r['sharpness'] if r['sharpness'] is not None else ''} | "

    for r in rows:
        cells = [f"{r['metrics'][k]['sad']:.2f} / {r['metrics'][k]['grad']:.2f}" for k in kinds]
        print(setting(r) + " | ".join(cells) + " |")
    for kind in ("photo", "wide"):
        subjects = sorted(rows[0].get(f"{kind}_subjects", {}))
        if not subjects:
            continue
        print(f"\n{kind} SAD per subject\n| strength | sharpness | " + " | ".join(subjects) + " |")
        print("|---|---|" + "---:|" * len(subjects))
        for r in rows:
            print(setting(r) + " | ".join(f"{r[f'{kind}_subjects'][s]['sad']:.2f}" for s in subjects) + " |")
    if args.json:
        from matting_gui.research.report import write_json

        write_json(rows, args.json)
    return 0


def cmd_kd_diagnostics(args) -> int:
    """Measure each student against the teacher: fit, headroom, error correlation, feature similarity."""
    import torch

    from matting_gui.core.files.safe_write import atomic_write_bytes
    from matting_gui.research.kd_diagnostics import markdown, run
    from matting_gui.research.report import default_models

    torch.set_num_threads(args.threads or torch.get_num_threads())
    if args.student:
        students = {}
        for spec in args.student:
            label, _, path = spec.partition("=")
            students[label] = Path(path or label)
    else:
        students = {k: v for k, v in default_models().items() if k != "teacher"}
    if not students:
        print_error("no student weights found in models/ (and none given with --student LABEL=PATH)")
        return 2
    try:
        result = run(args.teacher, students, train_photos=not args.no_train_photos, split=args.split)
    except (WeightsError, ImageError, OSError) as exc:
        print_error(str(exc))
        return 2
    print(markdown(result))
    if args.json:
        atomic_write_bytes(args.json, (json.dumps(result, indent=2) + "\n").encode())
    return 0


def cmd_ablation(args) -> int:
    """Train the ablation variants one after another; finished variants are skipped."""
    from matting_gui.research.report import ABLATION_VARIANTS
    from matting_gui.research.train import TrainConfig
    from matting_gui.research.train import main as train_main

    names = args.variants.split(",") if args.variants else list(ABLATION_VARIANTS)
    bad = [n for n in names if n not in ABLATION_VARIANTS]
    if bad:
        print_error(f"unknown variants {bad}; choose from {list(ABLATION_VARIANTS)}")
        return 2
    for name in names:
        out = Path(args.out) / name.replace("+", "_")
        if (out / "final.safetensors").exists():
            print(f"{name}: done already ({out})", file=sys.stderr)
            continue
        lock = claim_lock(out / "ablation.lock")
        if lock is None:
            print(f"{name}: being trained by another process, skipped ({out})", file=sys.stderr)
            continue
        kd = ABLATION_VARIANTS[name]
        cfg = TrainConfig(preset="student", out=str(out), steps=args.steps, batch=args.batch, size=args.size,
                          seed=args.seed, kd=kd, teacher=args.teacher if kd != "none" else "", resume=True,
                          workers=args.workers, threads=args.threads or 1, val_every=args.val_every)
        print(f"{name}: training ({kd}) → {out}", file=sys.stderr, flush=True)
        try:
            summary = train_main(cfg)
        except (ValueError, WeightsError, OSError) as exc:
            print_error(f"{name}: {exc}")
            return 2
        finally:
            lock.unlink(missing_ok=True)
        if summary.get("stopped"):  # SIGTERM (or stop_at): checkpointed; do not start the next variant
            print(f"{name}: stopped at step {summary['step']}; run the same command again to resume",
                  file=sys.stderr)
            return 0
    return 0


def claim_lock(lock: Path) -> Path | None:
    """Create ``lock`` holding our pid; None if a live process holds it (a stale lock is taken over).

    Lets several ``ablation`` processes work through one variant list without two of them
    training the same variant.
    """
    lock.parent.mkdir(parents=True, exist_ok=True)
    from matting_gui.core.files.safe_write import create_new

    for _ in range(2):
        if not create_new(lock, str(os.getpid())):
            try:
                pid = int(lock.read_text().strip() or 0)
                os.kill(pid, 0)  # raises if no such process
            except (ValueError, ProcessLookupError, FileNotFoundError):
                lock.unlink(missing_ok=True)  # stale: its process is gone
                continue
            except PermissionError:
                pass  # alive, someone else's
            return None
        return lock
    return None



def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all sub-commands."""
    parser = argparse.ArgumentParser(prog="matting-lab", description="Train the networks and measure them.")
    parser.add_argument("--version", action="version", version=f"matting-lab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a network or distil a student")
    p.add_argument("--config", help="TOML file with TrainConfig keys (unknown keys are rejected)")
    p.add_argument("--preset", choices=sorted(PRESETS))
    p.add_argument("--kd", help="distillation kinds joined with '+': spatial, channel, batch, attention, decoder, output, or none")
    p.add_argument("--kd-stages", dest="kd_stages",
                   help="encoder stages the feature terms cover: 1-4 joined with '+' (strides 4…32), or all")
    p.add_argument("--teacher", help="teacher weights for distillation")
    p.add_argument("--init", help="start from these weights")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--warmup", type=int)
    p.add_argument("--w1", type=float)
    p.add_argument("--kd-decay-from", dest="kd_decay_from", type=float,
                   help="fraction of the steps after which the teacher terms fade linearly to 0 (default 1: never)")
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--val-every", dest="val_every", type=int)
    p.add_argument("--val-limit", dest="val_limit", type=int)
    p.add_argument("--log-every", dest="log_every", type=int)
    p.add_argument("--checkpoint-minutes", dest="checkpoint_minutes", type=float)
    p.add_argument("--stop-at", dest="stop_at", type=int, help="end this invocation at this step (checkpointed)")
    p.add_argument("--max-minutes", dest="max_minutes", type=float,
                   help="end this invocation after this much wall time (checkpointed)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], help="where to train (auto: cuda when available)")
    p.add_argument("--ema", type=float, help="weight-average decay per step (validation and exports use the average)")
    p.add_argument("--data", choices=["auto", "shared", "synthetic"])
    p.add_argument("--split", choices=SPLITS, help="alphamatting train/validation split (v2: hard subjects, wide trimaps; "
                   "all: final models, every subject trained on, validation numbers only measure fit)")
    p.add_argument("--p-painted", dest="p_painted", type=float, help="share of samples with hand-painted-style trimaps")
    p.add_argument("--out", required=True)
    p.add_argument("--resume", action="store_true", default=None)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("report", help="the results table: all committed models and closed-form on the validation set")
    p.add_argument("--model", action="append", metavar="LABEL=PATH", help="add a model (repeatable)")
    p.add_argument("--no-closed-form", action="store_true", help="skip closed-form matting (slow)")
    p.add_argument("--only", metavar="LABEL;...", help="of the committed models, evaluate only these labels (';'-separated)")
    p.add_argument("--no-variants", action="store_true", help="skip the int8 and mirror-averaged rows")
    p.add_argument("--kinds", default="photo,wide,composite",
                   help="validation kinds to evaluate, ','-separated: photo, wide, composite, unpainted "
                        "(the wide trimaps with the foreground unpainted too)")
    p.add_argument("--refine", action="append", metavar="LABEL",
                   help="also evaluate this model with closed-form refinement (repeatable)")
    p.add_argument("--exported", action="append", metavar="LABEL",
                   help="also evaluate this model as export's defaults run it: mirror-averaged, then refined (repeatable)")
    p.add_argument("--split", choices=SPLITS, default="v1",
                   help="validation split: v1 (4 easy subjects) or v2 (hard subjects, wide trimaps)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", help="also write the rows as JSON")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("refine-sweep", help="validation scores of a model with closed-form refinement at several strengths")
    p.add_argument("--model", default="teacher")
    p.add_argument("--strengths", default="0.0005,0.002,0.01,0.05")
    p.add_argument("--sharpness", default="2,6,24")
    p.add_argument("--pin", type=float, default=None,
                   help="network α this close to 0 or 1 is made known before the solve (default: refine.PIN; 0: off)")
    p.add_argument("--grow", type=float, default=None,
                   help="margin kept unknown around the network's unsure pixels, × the image diagonal (default: refine.GROW)")
    p.add_argument("--reach", type=float, default=0.0,
                   help="pixels from the known region at which the prior reaches full weight (0: everywhere)")
    p.add_argument("--split", choices=SPLITS, default="v2")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", help="also write the rows as JSON")
    p.set_defaults(func=cmd_refine_sweep)

    p = sub.add_parser("kd-diagnostics", help="why distillation helps or not: each student measured against the teacher")
    p.add_argument("--teacher", default="teacher")
    p.add_argument("--student", action="append", metavar="LABEL=PATH",
                   help="a student to measure (repeatable; default: every student under models/)")
    p.add_argument("--no-train-photos", action="store_true", help="skip the training photos (fit vs. generalisation)")
    p.add_argument("--split", choices=["v1", "v2"], default="v1",
                   help="validation split: v1 (4 easy subjects) or v2 (hard subjects, wide trimaps)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", help="also write the measurements as JSON")
    p.set_defaults(func=cmd_kd_diagnostics)

    p = sub.add_parser("ablation", help="train the distillation ablation variants one after another (resumable)")
    p.add_argument("--teacher", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--variants", help="comma-separated subset (default: all)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--val-every", dest="val_every", type=int, default=500)
    p.set_defaults(func=cmd_ablation)

    p = sub.add_parser("plot-log", help="plot a training log.jsonl to PNG (several: compare validation SAD)")
    p.add_argument("log", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--labels", help="comma-separated curve names when comparing several logs")
    p.set_defaults(func=cmd_plot_log)

    from matting_gui.research.fusion_cli import register

    register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``matting-lab``; returns the exit code."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
