"""``matting-lab`` commands of the solver-fusion path: solver-cache, fusion-train, fusion-cv."""

from __future__ import annotations

import argparse
import dataclasses

from matting_gui.console import print_error


def cmd_solver_cache(args) -> int:
    """Solve every missing case of the solver-matte cache (resumable, progress bar)."""
    from matting_gui.research.data.sources import load_split
    from matting_gui.research.solver_cache import build_cache, cache_root, subject_jobs, thin_jobs

    stems = load_split("all")["train"]
    jobs = subject_jobs(stems) + thin_jobs(args.thin)
    solved = build_cache(jobs, workers=args.workers, box=args.box)
    print(f"{solved} cases solved now, {len(jobs)} in all, under {cache_root(args.box)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to ``matting-lab``'s parser."""
    p = sub.add_parser("solver-cache", help="solve the closed-form and KNN mattes of every training case once "
                       "(kept outside the repository; resumable)")
    p.add_argument("--workers", type=int, default=1, help="solver processes (each one core)")
    p.add_argument("--thin", type=int, default=0, help="procedural thin-structure cases to add")
    p.add_argument("--box", type=int, default=0, help="solve with the solvers' box capped at this many pixels "
                   "(a separate cache of the same cases; default: export's cap)")
    p.set_defaults(func=cmd_solver_cache)
    register_training(sub)


def _train_config(args):
    from .fusion_train import FusionTrainConfig

    keys = {f.name for f in dataclasses.fields(FusionTrainConfig)}
    return FusionTrainConfig(**{k: v for k, v in vars(args).items() if k in keys and v is not None})


def cmd_fusion_cv(args) -> int:
    """Train and score one cross-validation fold (or all, one after another); prints the summary."""
    import json
    from pathlib import Path

    from .fusion_train import FOLDS, V2_VAL, run_fold, summarise
    from .oof_report import load_cv_rows
    from .solver_cache import is_out_of_fold

    out = Path(args.out)
    count = len(V2_VAL) if args.network and not is_out_of_fold(args.network) else FOLDS
    if args.fold is not None and not 0 <= args.fold < count:
        print_error(f"--fold must be 0 to {count - 1}")
        return 2
    todo = [] if args.summary else [args.fold] if args.fold is not None else list(range(count))
    for fold in todo:
        run_fold(fold, _train_config(args), out)
    rows = load_cv_rows(out)
    print(json.dumps(summarise(rows), indent=1))
    if args.network and rows:
        _print_against_export(rows)
    return 0


def _print_against_export(rows: list[dict]) -> None:
    """Per-subject SAD tables and the paired change of the fusion and the median against the network's export."""
    from .fusion_eval import per_subject_table
    from .solver_teacher import paired_change

    for kind in dict.fromkeys(r["kind"] for r in rows):
        print(f"\n{kind} trimaps, SAD\n\n{per_subject_table(rows, kind)}")
    for method in ("fusion", "median"):
        for kind, c in paired_change(rows, method, "export").items():
            print(f"{method} vs export, {kind}: SAD change {c['mean']:+.2f} (90 % bootstrap {c['low']:+.2f} to "
                  f"{c['high']:+.2f}), lower on {c['wins']} of {c['cases']} cases")


def cmd_fusion_train(args) -> int:
    """Train the shipped fusion network on every subject's cases."""
    from pathlib import Path

    from .fusion_train import V2_VAL, train_fusion
    from .solver_cache import cache_root, is_out_of_fold, iter_cases

    model_dir = Path(args.out)
    cfg = _train_config(args)
    # the shipped network's matte is honest only on the subjects it never saw; out-of-fold mattes everywhere
    subjects = (set(V2_VAL) | {"thin"}) if cfg.network and not is_out_of_fold(cfg.network) else None
    train_fusion(list(iter_cases(cache_root(cfg.box), subjects=subjects)), cfg, model_dir)
    print(f"wrote {model_dir / 'fusion.safetensors'}")
    return 0


def _solver_list(value: str) -> tuple[str, ...]:
    from ..core.inference.solvers import SOLVERS

    names = tuple(value.split(","))
    if not names or any(n not in SOLVERS for n in names):
        raise argparse.ArgumentTypeError(f"choose some of {', '.join(SOLVERS)}, joined with ','")
    return names


def _add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs; resumed when it exists)")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--crop", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--grad-weight", dest="grad_weight", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--network", help="also feed this model's stored export mattes (fusion-cv then folds over "
                   "the subjects it never saw; build them with fusion-network-cache)")
    p.add_argument("--solvers", type=_solver_list, help="the solver mattes fed, joined with "
                   "',' (default closed_form,knn): what each earns, by leaving one out")
    p.add_argument("--box", type=int, help="train and score on the solver cache solved with this box cap "
                   "(solver-cache --box)")
    p.add_argument("--balance", action="store_true", default=None,
                   help="each crop's loss is its own mean (else wide unknown regions weigh more)")


def cmd_network_cache(args) -> int:
    """Store a model's export mattes for the cached cases of the subjects it never trained on; with
    --fold-weights, the out-of-fold mattes of the fold networks that exist yet."""
    from pathlib import Path

    from .fusion_eval import build_network_cache, build_oof_network_cache
    from .fusion_train import FOLDS, V2_VAL
    from .solver_cache import is_out_of_fold

    if args.fold_weights or is_out_of_fold(args.model):
        if not (args.fold_weights and "{k}" in args.fold_weights and is_out_of_fold(args.model)):
            print_error("out-of-fold mattes need --fold-weights with {k} in it and a --model name ending _oof")
            return 2
        paths = {k: Path(args.fold_weights.format(k=k)).expanduser() for k in range(FOLDS)}
        weights = {k: p for k, p in paths.items() if p.is_file()}
        for k in sorted(set(paths) - set(weights)):
            print(f"fold {k}: no {paths[k]} yet; its cases wait")
        done = build_oof_network_cache(weights, args.model, threads=args.threads)
        print(f"{done} {args.model} mattes computed now")
        return 0
    done = build_network_cache(set(V2_VAL) | {"thin"}, args.model)
    print(f"{done} {args.model} mattes computed now")
    return 0


def cmd_fusion_candidates(args) -> int:
    """Score export's matte, the out-of-fold solver fusion and fixed blends on the teacher's unseen subjects."""
    from pathlib import Path

    from .fusion_eval import per_subject_table, score_with_network

    rows = score_with_network(Path(args.cv), args.model)
    for kind in ("official", "wide", "painted"):
        print(f"\n{kind} trimaps, SAD\n\n{per_subject_table(rows, kind)}")
    return 0


def cmd_solver_teacher(args) -> int:
    """Train (or resume) the teacher that reads the solver mattes; with --score, score a finished run."""
    import json
    from pathlib import Path

    from .solver_teacher import SolverTeacherConfig, paired_change, score, summary, train_solver_teacher

    keys = {f.name for f in dataclasses.fields(SolverTeacherConfig)}
    cfg = SolverTeacherConfig(**{k: v for k, v in vars(args).items() if k in keys and v is not None})
    out = Path(args.out)
    if not args.score:
        print(f"wrote {train_solver_teacher(cfg, out)}")
        return 0
    # --weights: another network scored the same way (e.g. a teacher trained on thin structures)
    weights = Path(args.weights) if args.weights else out / "teacher_solvers.safetensors"
    if not weights.is_file():
        print_error(f"{weights}: no finished run to score; train it first (same --out, without --score)")
        return 2
    name = weights.stem if args.weights else "solver_teacher"
    rows = score(weights, cfg, threads=cfg.threads, out=out / "scores.json", name=name, live=args.live)
    print(json.dumps({k: {m: {"sad": round(v["sad"], 3), "grad": round(v["grad"], 3)} for m, v in t.items()}
                      for k, t in summary(rows).items()}, indent=1))
    for kind, c in paired_change(rows, name, "shipped" if args.live else "export").items():
        print(f"{kind}: SAD change {c['mean']:+.2f} (90 % bootstrap {c['low']:+.2f} to {c['high']:+.2f}), "
              f"lower on {c['wins']} of {c['cases']} cases")
    from ..core.files.safe_write import atomic_write_bytes
    from .solver_teacher import scored_steps
    from .structure_check import lattice_check

    steps = scored_steps(args.live)
    lattice = {m: lattice_check(w, steps) for m, w in (("shipped", cfg.init), (name, weights))}
    atomic_write_bytes(out / "lattice.json", (json.dumps(lattice, indent=1) + "\n").encode())
    for m, r in lattice.items():
        print(f"lattice, {m}: SAD {r['sad']:.2f}, background under the band above 0.2 {r['background']:.1%}, "
              f"girders above 0.5 {r['girders']:.1%}")
    return 0


def cmd_oof_report(args) -> int:
    """The cross-validated report: per subject and fold, against export, and the rules of docs/fusion.md."""
    import json
    from pathlib import Path

    from ..core.files.safe_write import atomic_write_bytes
    from .oof_report import export_default, fold_means, load_cv_rows, markdown_table, network_rows, teacher_rule

    if args.versus:
        return _stage_report(args)
    if not args.cv:
        print_error("name the cross-validation's run folder (--cv), or a cache to compare (--versus)")
        return 2
    rows = load_cv_rows(Path(args.cv))
    if not rows:
        print_error(f"{args.cv}: no fold<k>/scores.json yet; run fusion-cv --network {args.model} first")
        return 2
    _print_against_export(rows)
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    folds = {k: {m: fold_means(rows, m, k) for m in methods} for k in kinds}
    for kind in kinds:
        print(f"\n{kind}, SAD per fold: " + "; ".join(f"{m} " + " ".join(f"{v:.2f}" for v in vs)
                                                    for m, vs in folds[kind].items()))
    print(f"\nSAD and Gradient ÷ 1000, mean of the subjects' means (lowest–highest fold)\n\n{markdown_table(rows)}")
    rule1 = export_default(rows)
    print(f"\nrule 1, export's default: {rule1['choice']}  {json.dumps(rule1['tests'])}")
    rule2 = teacher_rule(network_rows({"shipped": "teacher", "folds": args.model}))
    print(f"rule 2, the teacher on all subjects ships: {rule2['ships']}  {json.dumps(rule2['tests'])}")
    thin = _print_thin(args.model)
    if args.json:
        report = {"folds": folds, "rule1": rule1, "rule2": rule2, "rows": rows, "thin_rows": thin}
        atomic_write_bytes(Path(args.json), (json.dumps(report, indent=1) + "\n").encode())
    return 0


def _print_thin(model: str) -> list[dict]:
    """Print the procedural thin cases' SAD and Gradient per method and each method's paired change against
    export (``oof_report.thin_rows``: unseen thin structures for the fold teachers; no rule reads them)."""
    import numpy as np

    from .oof_report import LABELS, thin_rows
    from .solver_teacher import paired_change

    rows = thin_rows(model)
    if not rows:
        return rows
    print(f"\nprocedural thin cases ({len({r['case'] for r in rows})}, painted-style trimaps; unseen by the fold "
          "teachers, decide nothing), mean over cases:")
    for m in dict.fromkeys(r["method"] for r in rows):
        sad, grad = (np.mean([r[k] for r in rows if r["method"] == m]) for k in ("sad", "grad"))
        c = paired_change(rows, m, "export").get("thin") if m != "export" else None
        vs = (f"  vs export {c['mean']:+.2f} ({c['low']:+.2f} to {c['high']:+.2f}), lower on {c['wins']} of "
              f"{c['cases']}") if c else ""
        print(f"  {LABELS[m]}: SAD {sad:.2f}, Gradient {grad:.2f}{vs}")
    structures = sorted({r["structure"] for r in rows})
    print("  SAD by structure (cases): " + "; ".join(
        f"{k} ({len({r['case'] for r in rows if r['structure'] == k})}) " + ", ".join(
            f"{m} {np.mean([r['sad'] for r in rows if r['method'] == m and r['structure'] == k]):.2f}"
            for m in dict.fromkeys(r["method"] for r in rows)) for k in structures))
    return rows


def _stage_report(args) -> int:
    """oof-report --versus: a further stage's out-of-fold export mattes against the base's, all subjects."""
    import json
    from pathlib import Path

    from ..core.files.safe_write import atomic_write_bytes
    from .data.sources import load_split
    from .fusion_eval import per_subject_table
    from .oof_report import network_rows, stage_rule
    from .solver_teacher import paired_change

    rows = network_rows({"base": args.model, "stage": args.versus}, tuple(load_split("all")["train"]))
    if not rows:
        print_error(f"no case has both {args.model} and {args.versus} mattes; build them with fusion-network-cache")
        return 2
    for kind in dict.fromkeys(r["kind"] for r in rows):
        print(f"\n{kind} trimaps, SAD\n\n{per_subject_table(rows, kind)}")
    for kind, c in paired_change(rows, "stage", "base").items():
        print(f"{args.versus} vs {args.model}, {kind}: SAD change {c['mean']:+.2f} (90 % bootstrap "
              f"{c['low']:+.2f} to {c['high']:+.2f}), lower on {c['wins']} of {c['cases']} cases")
    rule = stage_rule(rows)
    print(f"rule 5, {args.versus} ships: {rule['ships']}  {json.dumps(rule['tests'])}")
    if args.json:
        atomic_write_bytes(Path(args.json), (json.dumps({"rule5": rule, "rows": rows}, indent=1) + "\n").encode())
    return 0


def register_training(sub: argparse._SubParsersAction) -> None:
    """Add fusion-cv, fusion-train and solver-teacher to ``matting-lab``'s parser."""
    p = sub.add_parser("solver-teacher", help="fine-tune the teacher grown to read the closed-form and KNN mattes "
                       "on the solver cache (split v2's training subjects, thin cases); resumable")
    p.add_argument("--out", required=True, help="run folder (checkpoint, log, weights; resumed when it exists)")
    for name, kind in (("steps", int), ("batch", int), ("crop", int), ("lr", float), ("threads", int),
                       ("seed", int), ("init", str)):
        p.add_argument(f"--{name}", type=kind)
    p.add_argument("--held-thin", dest="held_thin", type=int, help="last thin cases scored, never trained on")
    p.add_argument("--score", action="store_true", help="score the finished run on v2's validation subjects "
                   "and the held-out thin cases against export's matte (writes scores.json)")
    p.add_argument("--weights", help="with --score: score these weights instead of the run's (any network; "
                   "named by the file's stem)")
    p.add_argument("--live", action="store_true", help="with --score: the networks' mattes alone (the editor's "
                   "live matte), not export's; --init names the shipped network compared")
    p.set_defaults(func=cmd_solver_teacher)
    p = sub.add_parser("fusion-cv", help="subject-disjoint cross-validation of the fusion network (resumable)")
    _add_train_args(p)
    p.add_argument("--fold", type=int, help="run only this fold (0-based); the summary covers every fold done")
    p.add_argument("--summary", action="store_true", help="run nothing: the summary of the folds done")
    p.set_defaults(func=cmd_fusion_cv)
    p = sub.add_parser("fusion-network-cache", help="store a model's export mattes for the solver cache's cases "
                       "of the subjects it never trained on (resumable)")
    p.add_argument("--model", default="teacher", help="a model, or the name (ending _oof) of an out-of-fold cache")
    p.add_argument("--fold-weights", dest="fold_weights", help="the fold networks' weights, {k} for the fold: "
                   "e.g. runs/teacher_fold{k}/final.safetensors (never best: chosen on the held-out fold)")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=cmd_network_cache)
    p = sub.add_parser("fusion-candidates", help="export's matte beside the out-of-fold solver fusion and fixed "
                       "blends, on the subjects the network never saw")
    p.add_argument("--cv", required=True, help="the run folder of the solver-only fusion-cv")
    p.add_argument("--model", default="teacher")
    p.set_defaults(func=cmd_fusion_candidates)
    p = sub.add_parser("oof-report", help="the out-of-fold cross-validation's report: per subject and fold, "
                       "against export, and the decision rules of docs/fusion.md")
    p.add_argument("--cv", help="the run folder of fusion-cv --network MODEL")
    p.add_argument("--model", default="teacher_oof", help="the out-of-fold network cache")
    p.add_argument("--json", help="also write the report (rows included) here")
    p.add_argument("--versus", help="instead: this out-of-fold cache (a further training stage of the fold "
                   "networks) against --model's, over all subjects, and rule 5")
    p.set_defaults(func=cmd_oof_report)
    p = sub.add_parser("fusion-train", help="train the fusion network on every subject (resumable)")
    _add_train_args(p)
    p.set_defaults(func=cmd_fusion_train)
