"""Scoring export candidates honestly: the network's export beside the out-of-fold fusion.

The shipped teacher trained on split v2's 14 training subjects, so its mattes are unseen-photo
mattes only on v2's five validation subjects (``V2_VAL``). Candidates that use the teacher are
scored there alone, each fusion matte coming from the cross-validation fold that held its subject
out. The teacher's export mattes (mirror, refine) are computed once per case and stored beside the
solver cache (``build_network_cache``; ``matting-lab fusion-network-cache``), as they take seconds.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..core.evaluation.metrics import evaluate_alpha
from ..core.files.safe_write import atomic_write_bytes
from ..core.nets.fusion import load_fusion, run_fusion
from ..core.nets.model_files import EXPORT_STEPS
from .fusion_train import EVAL_CASES, FOLDS, V2_VAL, folds
from .solver_cache import case_fold, iter_cases, network_cache, network_matte


def _export_matte(predictor, key: str, image: np.ndarray, trimap: np.ndarray, folder: Path) -> np.ndarray:
    path = folder / f"{key.replace('/', '__')}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return data["alpha"].astype(np.float32) / 65535
    alpha = predictor.predict(image, trimap, **EXPORT_STEPS).alpha
    buffer = io.BytesIO()
    np.savez_compressed(buffer, alpha=np.round(alpha * 65535).astype(np.uint16))
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return alpha


def build_network_cache(subjects: set[str], model: str = "teacher") -> int:
    """Compute and store ``model``'s export matte for every cached case of ``subjects`` (resumable); returns
    how many were computed now. Only subjects the network never trained on give honest mattes."""
    from tqdm import tqdm

    from ..core.inference.predictor import Predictor

    predictor, done = None, 0
    cases = [c for c in iter_cases(subjects=subjects) if network_matte(c.key, model) is None]
    for case in tqdm(cases, desc=f"{model} mattes", unit="case"):
        predictor = predictor or Predictor(model, device="cpu")
        image, trimap, _, _ = case.float_inputs()
        _export_matte(predictor, case.key, image, trimap, network_cache(model))
        done += 1
    return done


def build_oof_network_cache(weights: dict[int, Path], model: str = "teacher_oof", threads: int = 1) -> int:
    """Store out-of-fold export mattes as network cache ``model`` (a name ending ``_oof``): every cached case
    of a subject in fold k (and every procedural case that ``case_fold`` puts in fold k) gets the export matte
    of ``weights[k]``, the network trained on split ``fold<k>``, which never saw that subject. Folds without
    weights are skipped, so the cache grows as the fold networks finish; resumable. Returns how many mattes
    were computed now."""
    from tqdm import tqdm

    from ..core.inference.predictor import Predictor
    from .data.sources import load_split

    groups = folds(load_split("all")["train"], FOLDS)
    todo = [(case_fold(c.key, c.subject, groups), c) for c in iter_cases() if network_matte(c.key, model) is None]
    todo = sorted(((k, c) for k, c in todo if k in weights), key=lambda t: t[0])
    predictors: dict[int, Predictor] = {}
    for k, case in tqdm(todo, desc=f"{model} mattes", unit="case"):
        if k not in predictors:
            predictors = {k: Predictor(weights[k], device="cpu", threads=threads)}  # one network in memory
        image, trimap, _, _ = case.float_inputs()
        _export_matte(predictors[k], case.key, image, trimap, network_cache(model))
    return len(todo)


def candidates(export: np.ndarray, fused: np.ndarray, mattes: np.ndarray) -> dict[str, np.ndarray]:
    """The export candidates compared: each float32 (H, W) in [0, 1]."""
    cf, knn = mattes[0], mattes[1]
    return {
        "closed_form": cf, "knn": knn, "export": export, "fusion": fused,
        "mean(export, fusion)": 0.5 * (export + fused),
        "median(export, fusion, closed_form)": np.median(np.stack([export, fused, cf]), 0),
        "median(export, fusion, knn)": np.median(np.stack([export, fused, knn]), 0),
        "median(export, closed_form, knn)": np.median(np.stack([export, cf, knn]), 0),
    }


def score_with_network(cv_dir: Path, model: str = "teacher", subjects: tuple[str, ...] = V2_VAL) -> list[dict]:
    """Rows (subject, case, kind, fold, method, sad, mse, grad, conn) of every candidate on ``subjects``, the
    fusion from ``cv_dir``'s solver-only folds (``fusion-cv``); written to ``cv_dir/scores_with_<model>.json``."""
    from .data.sources import load_split

    build_network_cache(set(subjects), model)  # the cases not stored yet (none after fusion-network-cache)
    groups = folds(load_split("all")["train"], FOLDS)
    fold_of = {s: f for f, g in enumerate(groups) for s in g}
    fusions = {f: load_fusion(cv_dir / f"fold{f}" / "fusion.safetensors")[0] for f in range(FOLDS)}
    rows = []
    for case in iter_cases(subjects=set(subjects)):
        name = case.key.split("/", 1)[1]
        if name not in EVAL_CASES:
            continue
        image, trimap, alpha, mattes = case.float_inputs()
        fold = fold_of[case.subject]
        export = network_matte(case.key, model)
        fused = run_fusion(fusions[fold], image, trimap, mattes)
        for method, pred in candidates(export, fused, mattes).items():
            s = evaluate_alpha(pred, alpha, trimap)
            rows.append({"subject": case.subject, "case": name, "kind": EVAL_CASES[name], "fold": fold,
                         "method": method, "sad": s.sad, "mse": s.mse, "grad": s.grad, "conn": s.conn})
    atomic_write_bytes(cv_dir / f"scores_with_{model}.json", (json.dumps(rows, indent=1) + "\n").encode())
    return rows


def per_subject_table(rows: list[dict], kind: str, metric: str = "sad") -> str:
    """A markdown table: one row per method, one column per subject (mean over that kind's cases), and the mean."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    subjects = sorted({r["subject"] for r in rows})
    head = f"| method | {' | '.join(subjects)} | mean |\n|---|{'---:|' * (len(subjects) + 1)}\n"
    lines = []
    for m in methods:
        vals = []
        for s in subjects:
            sel = [r[metric] for r in rows if r["method"] == m and r["subject"] == s and r["kind"] == kind]
            vals.append(float(np.mean(sel)) if sel else float("nan"))
        lines.append(f"| {m} | {' | '.join(f'{v:.2f}' for v in vals)} | {np.nanmean(vals):.2f} |")
    return head + "\n".join(lines) + "\n"
