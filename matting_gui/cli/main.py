"""``matting-cli``: the app's headless commands (matte, evaluate, info, export-onnx).

Training and experiments have their own command, ``matting-lab`` (``research/cli.py``).

Exit codes: 0 success; 1 some input files failed (the others were processed);
2 bad usage or a model that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path

from matting_gui import __version__
from matting_gui.cli.batch import FILE_FAILURES, file_failure, find_by_stem, output_clash, parse_colour
from matting_gui.console import print_error, run
from matting_gui.core.editing.trimap import trimap_advice, validate_trimap
from matting_gui.core.files.imageio import (
    SUPPORTED_SUFFIXES,
    ImageError,
    read_alpha,
    read_image,
    read_trimap,
)
from matting_gui.core.files.outputs import OutputRequest, write_outputs
from matting_gui.core.files.paths import models_dir, printable, trimap_beside
from matting_gui.core.inference.export_rules import installed_rule_text
from matting_gui.core.nets.model_files import EXPORT_STEPS, FINAL_MODEL, WeightsError


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="img", file=sys.stderr, disable=None, leave=False)


def _make_predictor(args):
    """The predictor of ``--model`` (and, with solver fusion asked for, a check that the fusion network
    loads), or None after a one-line error."""
    from matting_gui.core.inference.predictor import Predictor
    from matting_gui.core.inference.quality import FUSION_FILE, installed_fusion

    try:
        if _steps(args)["fuse"] and installed_fusion() is None:
            raise WeightsError(f"--fuse: no fusion network at {models_dir() / FUSION_FILE}")
        return Predictor(args.model, args.device, args.working_pixels, args.threads,
                         precision="int8" if args.int8 else "fp32")
    except (WeightsError, RuntimeError, ValueError) as exc:
        print_error(str(exc))
        return None


def cmd_matte(args) -> int:
    """Matte each image with its trimap; exit 1 if any file failed, 2 on usage or model errors."""
    images = [Path(p) for p in args.images]
    if args.trimap and len(args.trimap) != len(images):
        print_error(f"{len(images)} images but {len(args.trimap)} trimaps: give one --trimap per image, or --trimap-dir")
        return 2
    background = None
    if args.composite:
        background = parse_colour(args.composite)
        if background is None:
            try:
                background = read_image(args.composite).rgb
            except ImageError as exc:
                print_error(f"--composite is neither a colour nor a readable image: {exc}")
                return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print_error(f"cannot create output folder {out} ({exc.strerror})")
        return 2
    if args.trimap:
        trimaps = [Path(t) for t in args.trimap]
    elif args.trimap_dir:
        trimaps = []  # matched by stem per image below
    else:
        trimaps = [trimap_beside(p) for p in images]
    clash = output_clash(images, trimaps, args.composite, out, Path(args.trimap_dir) if args.trimap_dir else None)
    if clash:
        print_error(clash)
        return 2
    predictor = _make_predictor(args)
    if predictor is None:
        return 2
    failed = 0
    for i, path in enumerate(_progress(images, "matte")):
        try:
            loaded = read_image(path)  # first: a file that is no photo is reported as such
            if args.trimap_dir:
                tri_path = find_by_stem(Path(args.trimap_dir), path.stem)
                if tri_path is None:
                    raise ImageError(f"{path}: no trimap named {path.stem}.* in {args.trimap_dir}")
            else:
                tri_path = trimaps[i]
                if not args.trimap and not tri_path.is_file():
                    raise ImageError(f"{path}: no trimap: give --trimap or --trimap-dir, or save one beside it as "
                                     f"{tri_path.name} (as the app does)")
            trimap = validate_trimap(read_trimap(tri_path, photo_shape=loaded.rgb.shape, notes=loaded.notes),
                                     loaded.rgb.shape, str(tri_path))
            result = predictor.predict(loaded.rgb, trimap, **_steps(args))
            request = OutputRequest(matte=True, cutout=args.cutout, composite=background is not None)
            colours = loaded.rgb
            if request.needs_colours:
                from matting_gui.core.imaging.compose import estimate_foreground

                colours = estimate_foreground(loaded.rgb, result.alpha)
            loaded.rgb = None  # the photo is not needed any more: 1.3 GB less at 110 MP while writing
            write_outputs(out, path.stem, request, result.alpha, colours, background, loaded.bit_depth)
            advice = trimap_advice(trimap)
            notes = loaded.notes + ([f"warning: {advice}"] if advice else [])
            note = f" ({'; '.join(notes)})" if notes else ""
            print(printable(f"{path.name}: {result.model_name} {result.seconds * 1000:.0f} ms{note}"), file=sys.stderr)
        except FILE_FAILURES as exc:
            failed += 1
            print_error(file_failure(path, exc))  # print_error escapes newlines: the whole message, one line
    if failed:
        print_error(f"{failed} of {len(images)} images failed")
        return 1
    return 0


def _steps(args) -> dict[str, bool]:
    """The export steps asked for: {'mirror', 'refine', 'fuse'} → on. A step named (--mirror, --fuse) is as
    named; the others are export's defaults (``quality.EXPORT_STEPS``) for ``matte`` and with --export, and off
    for ``evaluate`` and with --fast."""
    export = (args.steps_on and not getattr(args, "fast", False)) or getattr(args, "export", False)
    return {key: (export and default) if getattr(args, key) is None else getattr(args, key)
            for key, default in EXPORT_STEPS.items()}


def _method_predict(args):
    """A predict(image, trimap) → alpha callable for --method, and its display name."""
    steps = _steps(args)
    if args.method == "closed-form":
        if any(steps.values()):
            print_error("--mirror, --refine, --fuse and --export apply to the network, not to --method closed-form")
            return None, None
        from matting_gui.core.inference.refine import closed_form

        return closed_form, "closed-form"
    predictor = _make_predictor(args)
    if predictor is None:
        return None, None
    done = [word for word, key in (("mirror-averaged", "mirror"), ("refined", "refine"), ("fused", "fuse"))
            if steps[key]]
    name = predictor.name + (f" ({', '.join(done)})" if done else "")
    return (lambda image, trimap: predictor.predict(image, trimap, **steps).alpha), name


def cmd_evaluate(args) -> int:
    """Print SAD/MSE/Grad/Conn per image and their mean against ground-truth alphas."""
    from matting_gui.core.evaluation.metrics import evaluate_alpha, mean_scores, sad_by_truth

    predict, name = _method_predict(args)
    if predict is None:
        return 2
    images = sorted(p for p in Path(args.images).iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not images:
        print_error(f"no images in {args.images}")
        return 2
    rows, split, failed = {}, {}, 0
    for path in _progress(images, "evaluate"):
        try:
            tp, ap = find_by_stem(Path(args.trimaps), path.stem), find_by_stem(Path(args.alphas), path.stem)
            if tp is None or ap is None:
                raise ImageError(f"{path}: missing trimap or ground-truth alpha for stem {path.stem}")
            img = read_image(path).rgb
            tri = validate_trimap(read_trimap(tp, photo_shape=img.shape), img.shape, str(tp))
            pred, gt = predict(img, tri), read_alpha(ap)
            rows[path.stem] = evaluate_alpha(pred, gt, tri)
            split[path.stem] = sad_by_truth(pred, gt, tri)
        except FILE_FAILURES as exc:
            failed += 1
            print_error(file_failure(path, exc))
    mean = mean_scores(list(rows.values()))
    split["mean"] = {k: sum(v[k] for v in split.values()) / max(1, len(split)) for k in ("opaque", "clear", "partial")}
    extra = args.by_truth
    print(f"{name}: {len(rows)} images")
    print(f"| {'image':<12} | {'SAD':>8} | {'MSE':>8} | {'Grad':>8} | {'Conn':>8} |"
          + (f" {'holes':>8} | {'haze':>8} | {'edge':>8} |" if extra else ""))
    print(f"|{'-' * 14}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|" + f"{'-' * 10}|" * 3 * extra)
    for stem, s in list(rows.items()) + [("mean", mean)]:
        where = split[stem]
        print(f"| {stem:<12} | {s.sad:8.2f} | {s.mse:8.4f} | {s.grad:8.2f} | {s.conn:8.2f} |"
              + (f" {where['opaque']:8.2f} | {where['clear']:8.2f} | {where['partial']:8.2f} |" if extra else ""))
    if extra:
        print("SAD split by the true alpha: holes (true α ≥ 0.95), haze (true α ≤ 0.05), edge (between)")
    if args.json:
        payload = {"model": name, "mean": mean.as_dict(), "images": {k: v.as_dict() for k, v in rows.items()},
                   "sad_by_truth": split}
        from matting_gui.core.files.safe_write import atomic_write_bytes

        atomic_write_bytes(args.json, (json.dumps(payload, indent=2) + "\n").encode())
    return 1 if failed else 0


def cmd_info(args) -> int:
    """Print versions, the compute device, the data folder and the installed models."""
    import platform

    import torch

    from matting_gui.core.files.paths import data_root, models_dir
    from matting_gui.core.inference.predictor import pick_device

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
    from matting_gui.core.nets.fusion import FORMAT as FUSION_FORMAT
    from matting_gui.core.nets.fusion import load_fusion
    from matting_gui.core.nets.weights import load_network, read_header

    for path in found:
        try:
            is_fusion = read_header(path)[0].get("format") == FUSION_FORMAT
            model, card = load_fusion(path) if is_fusion else load_network(path)
            training = card.get("training") if isinstance(card.get("training"), dict) else {}
            recipe = training.get("recipe") if isinstance(training.get("recipe"), dict) else {}
            steps = training.get("total_cpu_steps_from_imagenet") or training.get("steps") or recipe.get("steps", "?")
            params = sum(p.numel() for p in model.parameters())
            kd = training.get("kd") if isinstance(training.get("kd"), str) else "none"
            role = " (solver fusion, an export option)" if is_fusion else ""
            print(printable(f"  {path.name:<24} {str(card.get('name', '?')):<8} {params / 1e6:.2f} M params, "
                            f"{steps} steps" + (f", {kd} distillation" if kd != "none" else "") + role))
        except WeightsError as exc:
            print(f"  {path.name:<24} unusable: {exc}")
    return 0


def cmd_export_onnx(args) -> int:
    """Export a model to ONNX and check onnxruntime's alpha against torch's."""
    from matting_gui.core.nets.onnx_export import check_onnx, export_onnx

    try:
        path = export_onnx(args.model, args.out)
    except (WeightsError, OSError, RuntimeError) as exc:
        print_error(str(exc))
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
    parser.add_argument("--version", action="version", version=f"matting-cli {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_args(p, default="student"):
        p.add_argument("--model", default=default,
                       help=f"student, teacher, or a .safetensors path (default: {default})")
        p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
        p.add_argument("--working-pixels", type=int, default=2_000_000, help="larger images are matted at this size and upsampled")
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
        p.add_argument("--int8", action="store_true",
                       help="CPU only: run a static-int8 copy of the network (~2x faster, a few %% worse SAD; see README)")

    def quality_args(p, on: bool):
        """Export's steps; ``on``: each defaults to export's default (``matte``: what the app exports), else off."""
        p.set_defaults(steps_on=on)

        def state(key: str) -> str:
            return "on" if on and EXPORT_STEPS[key] else "off"

        p.add_argument("--mirror", action=argparse.BooleanOptionalAction,
                       help=f"average with the matte of the mirrored image (2x time, lower error; default {state('mirror')})")
        p.add_argument("--refine", action=argparse.BooleanOptionalAction,
                       help=f"closed-form matting where the network is unsure (seconds per MP; default {state('refine')})")
        p.add_argument("--fuse", action=argparse.BooleanOptionalAction,
                       help=f"solver fusion: {installed_rule_text()} (seconds per MP; default {state('fuse')})")
        if on:
            p.add_argument("--fast", action="store_true",
                           help="the network alone: each step off unless named (--fast --mirror: the mirror only)")
        else:
            p.add_argument("--export", action="store_true",
                           help="what the app exports by default (--mirror --refine); steps named win")

    p = sub.add_parser("matte", help="compute alpha mattes")
    p.add_argument("images", nargs="+")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--trimap", nargs="+", help="one trimap per image, in order (default: <stem>_trimap.png beside "
                                              "each image, where the app saves it)")
    g.add_argument("--trimap-dir", help="folder of trimaps matched by file stem")
    p.add_argument("--out", required=True, help="output folder")
    model_args(p, default=FINAL_MODEL)
    p.add_argument("--cutout", action="store_true", help="also write <stem>_cutout.png (RGBA, straight alpha)")
    p.add_argument("--composite", metavar="COLOR|IMAGE", help="also write <stem>_composite.png over a colour or image")
    quality_args(p, on=True)
    p.set_defaults(func=cmd_matte)

    p = sub.add_parser("evaluate", help="SAD, MSE, Gradient, Connectivity against ground truth")
    p.add_argument("--images", required=True)
    p.add_argument("--trimaps", required=True)
    p.add_argument("--alphas", required=True)
    p.add_argument("--method", default="network", choices=["network", "closed-form"])
    p.add_argument("--json", help="also write the scores to this JSON file")
    p.add_argument("--by-truth", action="store_true",
                   help="also split SAD by the true alpha: holes in the subject, haze over the background, edge")
    model_args(p)
    quality_args(p, on=False)  # --export: score what the app exports (the network alone otherwise)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("info", help="versions, device, installed models")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("export-onnx", help="export a model to ONNX and check it against torch with onnxruntime")
    p.add_argument("--model", default="student")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export_onnx)

    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``matting-cli``; returns the exit code."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
