"""``matting-lab`` commands of the solver-fusion path: solver-cache, fusion-train, fusion-cv."""

from __future__ import annotations

import argparse


def cmd_solver_cache(args) -> int:
    """Solve every missing case of the solver-matte cache (resumable, progress bar)."""
    from .data.sources import load_split
    from .solver_cache import build_cache, cache_root, subject_jobs, thin_jobs

    stems = load_split("all")["train"]
    jobs = subject_jobs(stems) + thin_jobs(args.thin)
    solved = build_cache(jobs, workers=args.workers)
    print(f"{solved} cases solved now, {len(jobs)} in all, under {cache_root()}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to ``matting-lab``'s parser."""
    p = sub.add_parser("solver-cache", help="solve the closed-form and KNN mattes of every training case once "
                       "(kept outside the repository; resumable)")
    p.add_argument("--workers", type=int, default=1, help="solver processes (each one core)")
    p.add_argument("--thin", type=int, default=0, help="procedural thin-structure cases to add")
    p.set_defaults(func=cmd_solver_cache)
