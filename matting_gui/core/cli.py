"""``matting-cli``: headless commands (matte, evaluate, info, train).

Exit codes: 0 success; 1 some input files failed (the others were processed);
2 bad usage or a model that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from .config import PRESETS
from .data.sources import SPLITS
from .imageio import (
    SUPPORTED_SUFFIXES,
    ImageError,
    read_alpha,
    read_image,
    read_trimap,
)
from .imagewrite import write_alpha, write_composite, write_rgba
from .paths import printable
from .trimap import TrimapError, validate_trimap
from .weights import WeightsError


def _err(msg: str) -> None:
    print(printable(f"error: {msg}"), file=sys.stderr, flush=True)


def parse_colour(text: str) -> tuple[float, float, float] | None:
    """'#rrggbb', 'r,g,b' (0-255) or a name (white, black, red, green, blue, gray) → RGB in [0, 1]; else None."""
    names = {"white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 255, 0),
             "blue": (0, 0, 255), "gray": (128, 128, 128), "grey": (128, 128, 128)}
    t = text.strip().lower()
    rgb = None
    if t in names:
        rgb = names[t]
    elif t.startswith("#") and len(t) == 7:
        try:
            rgb = tuple(int(t[i : i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            return None
    elif t.count(",") == 2:
        try:
            rgb = tuple(int(v) for v in t.split(","))
        except ValueError:
            return None
        if not all(0 <= v <= 255 for v in rgb):
            return None
    return None if rgb is None else tuple(v / 255.0 for v in rgb)


def _find_by_stem(folder: Path, stem: str) -> Path | None:
    for suffix in SUPPORTED_SUFFIXES + tuple(s.upper() for s in SUPPORTED_SUFFIXES):
        p = folder / f"{stem}{suffix}"
        if p.exists():
            return p
    return None


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="img", file=sys.stderr, disable=None, leave=False)


def _make_predictor(args):
    from .predictor import Predictor

    try:
        return Predictor(args.model, args.device, args.working_pixels, args.threads,
                         precision="int8" if args.int8 else "fp32")
    except (WeightsError, RuntimeError, ValueError) as exc:
        _err(str(exc))
        return None


#: What ``matte`` writes per input stem (never the input's own name, so an input is never overwritten).
MATTE_SUFFIX, CUTOUT_SUFFIX, COMPOSITE_SUFFIX = "_matte.png", "_cutout.png", "_composite.png"


def _output_clash(images: list[Path], trimaps: list[Path], composite: str | None, out: Path) -> str | None:
    """A one-line reason when the outputs of ``images`` in ``out`` would overwrite an input or each other."""
    stems: dict[str, Path] = {}
    for path in images:
        if path.stem in stems:
            return (f"{stems[path.stem]} and {path} share the name {path.stem!r}: their outputs in {out} would "
                    "overwrite each other; matte them into different --out folders")
        stems[path.stem] = path
    inputs = {p.resolve() for p in images + trimaps if p.exists()}
    if composite and Path(composite).exists():
        inputs.add(Path(composite).resolve())
    for stem in stems:
        for suffix in (MATTE_SUFFIX, CUTOUT_SUFFIX, COMPOSITE_SUFFIX):
            target = (out / f"{stem}{suffix}").resolve()
            if target in inputs:
                return f"{target}: is an input and would be overwritten by an output; choose another --out folder"
    return None


def cmd_matte(args) -> int:
    """Matte each image with its trimap; exit 1 if any file failed, 2 on usage or model errors."""
    images = [Path(p) for p in args.images]
    if args.trimap and len(args.trimap) != len(images):
        _err(f"{len(images)} images but {len(args.trimap)} trimaps: give one --trimap per image, or --trimap-dir")
        return 2
    background = None
    if args.composite:
        background = parse_colour(args.composite)
        if background is None:
            try:
                background = read_image(args.composite).rgb
            except ImageError as exc:
                _err(f"--composite is neither a colour nor a readable image: {exc}")
                return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(f"cannot create output folder {out} ({exc.strerror})")
        return 2
    clash = _output_clash(images, [Path(t) for t in args.trimap or []], args.composite, out)
    if clash:
        _err(clash)
        return 2
    predictor = _make_predictor(args)
    if predictor is None:
        return 2
    failed = 0
    for i, path in enumerate(_progress(images, "matte")):
        try:
            if args.trimap:
                tri_path = Path(args.trimap[i])
            else:
                tri_path = _find_by_stem(Path(args.trimap_dir), path.stem)
                if tri_path is None:
                    raise ImageError(f"{path}: no trimap named {path.stem}.* in {args.trimap_dir}")
            loaded = read_image(path)
            trimap = validate_trimap(read_trimap(tri_path), loaded.rgb.shape, str(tri_path))
            result = predictor.predict(loaded.rgb, trimap, mirror=args.mirror, refine=args.refine)
            write_alpha(out / f"{path.stem}{MATTE_SUFFIX}", result.alpha, loaded.bit_depth)
            if args.cutout or background is not None:
                from .compose import cover_resize, estimate_foreground

                fg = estimate_foreground(loaded.rgb, result.alpha)
                loaded.rgb = None  # the photo is not needed any more: 1.3 GB less at 110 MP while writing
                if args.cutout:
                    write_rgba(out / f"{path.stem}{CUTOUT_SUFFIX}", fg, result.alpha, loaded.bit_depth)
                if background is not None:
                    bg = background
                    if isinstance(bg, np.ndarray):
                        bg = cover_resize(bg, *result.alpha.shape)
                    write_composite(out / f"{path.stem}{COMPOSITE_SUFFIX}", fg, result.alpha, bg, bit_depth=loaded.bit_depth)
            note = f" ({'; '.join(loaded.notes)})" if loaded.notes else ""
            print(printable(f"{path.name}: {result.model_name} {result.seconds * 1000:.0f} ms{note}"), file=sys.stderr)
        except (ImageError, TrimapError, OSError, ValueError) as exc:
            failed += 1
            _err(str(exc) or f"{path}: {type(exc).__name__}")  # _err escapes newlines: the whole message, one line
    if failed:
        _err(f"{failed} of {len(images)} images failed")
        return 1
    return 0


def _method_predict(args):
    """A predict(image, trimap) → alpha callable for --method, and its display name."""
    if args.method == "closed-form":
        from pymatting import estimate_alpha_cf

        def cf(image, trimap):
            return estimate_alpha_cf(image.astype(np.float64), trimap.astype(np.float64) / 255.0).astype(np.float32)

        return cf, "closed-form"
    predictor = _make_predictor(args)
    if predictor is None:
        return None, None
    return (lambda image, trimap: predictor.predict(image, trimap).alpha), predictor.name


def cmd_evaluate(args) -> int:
    """Print SAD/MSE/Grad/Conn per image and their mean against ground-truth alphas."""
    from .metrics import evaluate_alpha, mean_scores

    predict, name = _method_predict(args)
    if predict is None:
        return 2
    images = sorted(p for p in Path(args.images).iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not images:
        _err(f"no images in {args.images}")
        return 2
    rows, failed = {}, 0
    for path in _progress(images, "evaluate"):
        try:
            tp, ap = _find_by_stem(Path(args.trimaps), path.stem), _find_by_stem(Path(args.alphas), path.stem)
            if tp is None or ap is None:
                raise ImageError(f"{path}: missing trimap or ground-truth alpha for stem {path.stem}")
            img = read_image(path).rgb
            tri = validate_trimap(read_trimap(tp), img.shape, str(tp))
            rows[path.stem] = evaluate_alpha(predict(img, tri), read_alpha(ap), tri)
        except (ImageError, TrimapError, OSError, ValueError) as exc:
            failed += 1
            _err(str(exc))
    mean = mean_scores(list(rows.values()))
    print(f"{name}: {len(rows)} images")
    print(f"| {'image':<12} | {'SAD':>8} | {'MSE':>8} | {'Grad':>8} | {'Conn':>8} |")
    print(f"|{'-' * 14}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for stem, s in list(rows.items()) + [("mean", mean)]:
        print(f"| {stem:<12} | {s.sad:8.2f} | {s.mse:8.4f} | {s.grad:8.2f} | {s.conn:8.2f} |")
    if args.json:
        payload = {"model": name, "mean": mean.as_dict(), "images": {k: v.as_dict() for k, v in rows.items()}}
        from .imagewrite import atomic_write_bytes

        atomic_write_bytes(args.json, (json.dumps(payload, indent=2) + "\n").encode())
    return 1 if failed else 0


def cmd_info(args) -> int:
    """Print versions, the compute device, the data folder and the installed models."""
    import platform

    import torch

    from .paths import data_root, models_dir
    from .predictor import pick_device

    print(f"{'python':<24}{platform.python_version()} ({platform.machine()})")
    for pkg in ("torch", "numpy", "opencv-python-headless", "pillow", "safetensors", "pymatting", "PySide6-Essentials"):
        try:
            print(f"{pkg:<24}{metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            print(f"{pkg:<24}(not installed)")
    print(f"{'device':<24}auto → {pick_device('auto')} (torch threads: {torch.get_num_threads()})")
    print(f"{'data':<24}{data_root()} ({'found' if data_root().is_dir() else 'missing'})")
    print(f"{'models':<24}{models_dir()}")
    found = sorted(models_dir().glob("*.safetensors")) if models_dir().is_dir() else []
    if not found:
        print("  (no trained weights: see README, 'Training')")
    from .weights import load_network

    for path in found:
        try:
            model, card = load_network(path)
            steps = card.get("training", {}).get("steps", "?")
            print(f"  {path.name:<24} {card.get('name', '?'):<8} {card['parameters'] / 1e6:.2f} M params, {steps} steps")
        except WeightsError as exc:
            print(f"  {path.name:<24} unusable: {exc}")
    return 0


def cmd_train(args) -> int:
    """Train or distil per TrainConfig (TOML file plus command-line overrides)."""
    from .train import TrainConfig
    from .train import main as train_main

    overrides = {k: v for k, v in vars(args).items() if k in {f for f in TrainConfig.__dataclass_fields__} and v is not None}
    try:
        cfg = TrainConfig.from_toml(args.config, **overrides) if args.config else TrainConfig.from_dict(overrides)
        summary = train_main(cfg)
    except (ValueError, WeightsError, OSError) as exc:
        _err(str(exc))
        return 2
    if summary:
        print(json.dumps(summary, indent=2))
    return 0


def cmd_plot_log(args) -> int:
    """Plot a training log.jsonl to a PNG."""
    from .plot_log import plot_log, plot_validation

    try:
        if len(args.log) == 1:
            out = plot_log(args.log[0], args.out)
        else:  # several runs: their validation curves side by side, labelled by run folder
            labels = args.labels.split(",") if args.labels else [Path(p).parent.name or Path(p).stem for p in args.log]
            if len(labels) != len(args.log):
                _err(f"--labels has {len(labels)} names for {len(args.log)} logs")
                return 2
            out = plot_validation(dict(zip(labels, args.log)), args.out)
    except (OSError, ValueError, KeyError) as exc:
        _err(f"{', '.join(args.log)}: {exc}")
        return 2
    print(out)
    return 0


def cmd_report(args) -> int:
    """Evaluate all committed models (and closed-form) on the validation set; print the tables."""
    import torch

    from .data.validation import build_validation_set
    from .report import default_models, evaluate_models, markdown, write_json

    torch.set_num_threads(args.threads or torch.get_num_threads())
    models = default_models()
    if args.only:
        wanted = [w.strip() for w in args.only.split(";") if w.strip()]
        models = {label: path for label, path in models.items() if label in wanted}
    for spec in args.model or []:
        label, _, path = spec.partition("=")
        models[label] = Path(path or label)
    if not models:
        _err("no weights found in models/ (and none given with --model LABEL=PATH)")
        return 2
    try:
        items = build_validation_set(args.split)
        rows = evaluate_models(models, include_closed_form=not args.no_closed_form, items=items,
                               int8=() if args.no_variants else ("student, distilled",),
                               mirror=() if args.no_variants else ("teacher", "student, distilled"),
                               refine=tuple(args.refine or ()))
    except (WeightsError, ImageError, OSError) as exc:
        _err(str(exc))
        return 2
    text = markdown(rows)
    print(text)
    if args.json:
        write_json(rows, args.json)
    return 0


def cmd_refine_sweep(args) -> int:
    """Validation scores of one model refined at several prior strengths (chooses refine.STRENGTH)."""
    import torch

    from .data.validation import build_validation_set
    from .report import refine_sweep

    torch.set_num_threads(args.threads or torch.get_num_threads())
    try:
        strengths = tuple(float(v) for v in args.strengths.split(","))
        sharpness = tuple(float(v) for v in args.sharpness.split(","))
        rows = refine_sweep(Path(args.model), build_validation_set(args.split), strengths, sharpness, args.reach)
    except (WeightsError, ImageError, OSError, ValueError) as exc:
        _err(str(exc))
        return 2
    kinds = [k for k in ("photo", "wide", "composite", "all") if k in rows[0]["metrics"]]
    print("| strength | sharpness | " + " | ".join(f"{k} SAD / Grad" for k in kinds) + " |")
    print("|---|---|" + "---:|" * len(kinds))
    for r in rows:
        cells = [f"{r['metrics'][k]['sad']:.2f} / {r['metrics'][k]['grad']:.2f}" for k in kinds]
        label = "network alone" if r["strength"] is None else f"{r['strength']:g}"
        print(f"| {label} | {r['sharpness'] if r['sharpness'] is not None else ''} | " + " | ".join(cells) + " |")
    if args.json:
        from .report import write_json

        write_json(rows, args.json)
    return 0


def cmd_kd_diagnostics(args) -> int:
    """Measure each student against the teacher: fit, headroom, error correlation, feature similarity."""
    import torch

    from .imagewrite import atomic_write_bytes
    from .kd_diagnostics import markdown, run
    from .report import default_models

    torch.set_num_threads(args.threads or torch.get_num_threads())
    if args.student:
        students = {}
        for spec in args.student:
            label, _, path = spec.partition("=")
            students[label] = Path(path or label)
    else:
        students = {k: v for k, v in default_models().items() if k != "teacher"}
    if not students:
        _err("no student weights found in models/ (and none given with --student LABEL=PATH)")
        return 2
    try:
        result = run(args.teacher, students, train_photos=not args.no_train_photos)
    except (WeightsError, ImageError, OSError) as exc:
        _err(str(exc))
        return 2
    print(markdown(result))
    if args.json:
        atomic_write_bytes(args.json, (json.dumps(result, indent=2) + "\n").encode())
    return 0


def cmd_ablation(args) -> int:
    """Train the ablation variants one after another; finished variants are skipped."""
    from .report import ABLATION_VARIANTS
    from .train import TrainConfig
    from .train import main as train_main

    names = args.variants.split(",") if args.variants else list(ABLATION_VARIANTS)
    bad = [n for n in names if n not in ABLATION_VARIANTS]
    if bad:
        _err(f"unknown variants {bad}; choose from {list(ABLATION_VARIANTS)}")
        return 2
    for name in names:
        out = Path(args.out) / name.replace("+", "_")
        if (out / "final.safetensors").exists():
            print(f"{name}: done already ({out})", file=sys.stderr)
            continue
        lock = _claim(out / "ablation.lock")
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
            _err(f"{name}: {exc}")
            return 2
        finally:
            lock.unlink(missing_ok=True)
        if summary.get("stopped"):  # SIGTERM (or stop_at): checkpointed; do not start the next variant
            print(f"{name}: stopped at step {summary['step']}; run the same command again to resume",
                  file=sys.stderr)
            return 0
    return 0


def _claim(lock: Path) -> Path | None:
    """Create ``lock`` holding our pid; None if a live process holds it (a stale lock is taken over).

    Lets several ``ablation`` processes work through one variant list without two of them
    training the same variant.
    """
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
                os.kill(pid, 0)  # raises if no such process
            except (ValueError, ProcessLookupError, FileNotFoundError):
                lock.unlink(missing_ok=True)  # stale: its process is gone
                continue
            except PermissionError:
                pass  # alive, someone else's
            return None
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return lock
    return None


def cmd_export_onnx(args) -> int:
    """Export a model to ONNX and check onnxruntime's alpha against torch's."""
    from .onnx_export import check_onnx, export_onnx

    try:
        path = export_onnx(args.model, args.out)
    except (WeightsError, OSError, RuntimeError) as exc:
        _err(str(exc))
        return 2
    try:
        diff = check_onnx(args.model, path)
    except ImportError:
        print(f"{path} (not checked: pip install onnxruntime)")
        return 0
    print(f"{path}: onnxruntime matches torch within {diff:.1e}")
    return 0 if diff < 1e-4 else 1


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all sub-commands."""
    parser = argparse.ArgumentParser(prog="matting-cli", description="Alpha matting from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_args(p):
        p.add_argument("--model", default="student", help="student, teacher, or a .safetensors path (default: student)")
        p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
        p.add_argument("--working-pixels", type=int, default=2_000_000, help="larger images are matted at this size and upsampled")
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
        p.add_argument("--int8", action="store_true",
                       help="CPU only: run a static-int8 copy of the network (~2x faster, a few %% worse SAD; see README)")

    p = sub.add_parser("matte", help="compute alpha mattes")
    p.add_argument("images", nargs="+")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--trimap", nargs="+", help="one trimap per image, in order")
    g.add_argument("--trimap-dir", help="folder of trimaps matched by file stem")
    p.add_argument("--out", required=True, help="output folder")
    model_args(p)
    p.add_argument("--cutout", action="store_true", help="also write <stem>_cutout.png (RGBA, straight alpha)")
    p.add_argument("--composite", metavar="COLOR|IMAGE", help="also write <stem>_composite.png over a colour or image")
    p.add_argument("--mirror", action="store_true",
                   help="average with the matte of the mirrored image (2x time, lower error; see README)")
    p.add_argument("--refine", action="store_true",
                   help="finish with network-guided closed-form matting (seconds per MP; best on wide trimaps, see README)")
    p.set_defaults(func=cmd_matte)

    p = sub.add_parser("evaluate", help="SAD, MSE, Gradient, Connectivity against ground truth")
    p.add_argument("--images", required=True)
    p.add_argument("--trimaps", required=True)
    p.add_argument("--alphas", required=True)
    p.add_argument("--method", default="network", choices=["network", "closed-form"])
    p.add_argument("--json", help="also write the scores to this JSON file")
    model_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("info", help="versions, device, installed models")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("train", help="train a network or distil a student")
    p.add_argument("--config", help="TOML file with TrainConfig keys (unknown keys are rejected)")
    p.add_argument("--preset", choices=sorted(PRESETS))
    p.add_argument("--kd", help="distillation kinds joined with '+': spatial, channel, batch, attention, decoder, output, or none")
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
    p.add_argument("--data", choices=["auto", "shared", "synthetic"])
    p.add_argument("--split", choices=SPLITS, help="alphamatting train/validation split (v2: hard subjects, wide trimaps)")
    p.add_argument("--p-painted", dest="p_painted", type=float, help="share of samples with hand-painted-style trimaps")
    p.add_argument("--out", required=True)
    p.add_argument("--resume", action="store_true", default=None)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("report", help="the results table: all committed models and closed-form on the validation set")
    p.add_argument("--model", action="append", metavar="LABEL=PATH", help="add a model (repeatable)")
    p.add_argument("--no-closed-form", action="store_true", help="skip closed-form matting (slow)")
    p.add_argument("--only", metavar="LABEL;...", help="of the committed models, evaluate only these labels (';'-separated)")
    p.add_argument("--no-variants", action="store_true", help="skip the int8 and mirror-averaged rows")
    p.add_argument("--refine", action="append", metavar="LABEL",
                   help="also evaluate this model with closed-form refinement (repeatable)")
    p.add_argument("--split", choices=SPLITS, default="v1",
                   help="validation split: v1 (4 easy subjects) or v2 (hard subjects, wide trimaps)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", help="also write the rows as JSON")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("refine-sweep", help="validation scores of a model with closed-form refinement at several strengths")
    p.add_argument("--model", default="teacher")
    p.add_argument("--strengths", default="0.001,0.003,0.01,0.03,0.1")
    p.add_argument("--sharpness", default="2")
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

    p = sub.add_parser("export-onnx", help="export a model to ONNX and check it against torch with onnxruntime")
    p.add_argument("--model", default="student")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export_onnx)

    p = sub.add_parser("plot-log", help="plot a training log.jsonl to PNG (several: compare validation SAD)")
    p.add_argument("log", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--labels", help="comma-separated curve names when comparing several logs")
    p.set_defaults(func=cmd_plot_log)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``matting-cli``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `matting-cli info | head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
