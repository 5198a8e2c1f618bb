"""The cross-validated report of issue 46: out-of-fold teachers, and the two rules of docs/fusion.md.

Inputs are the rows of ``fusion-cv --network <model>_oof`` (one per held-out case and method: closed_form,
knn, export, median, fusion; SAD etc. ÷ 1000 on the unknown region) and the stored export mattes of the
shipped teacher and of the fold teachers (``solver_cache.network_matte``). Every mean is a mean of subject
means, so a subject with more cases of a kind does not weigh more.

Rule 1 (export's default): a candidate passes if its SAD is lower than export's with official and with
wide trimaps and at most 5 % higher with painted-style ones; the fusion is tried first, then the median;
if both pass, the one lower with official trimaps wins.
Rule 2 (the teacher): the fold recipe's teacher on all subjects ships if the fold teachers' export SAD on
the shipped teacher's unseen subjects is at most 5 % above the shipped teacher's there, official and wide.
Rule 5 (a further training stage, e.g. thin structures): it ships if its fold teachers' out-of-fold export
SAD over all subjects is at most 2 % above the base fold teachers' with official and with wide trimaps and
lower with painted-style ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.evaluation.metrics import evaluate_alpha
from .fusion_train import EVAL_CASES, V2_VAL, case_inputs, untrained_methods
from .solver_cache import iter_cases, network_matte, thin_kind

#: How much worse than export a candidate may be with painted-style trimaps (rule 1), and how much worse the
#: fold teachers may be than the shipped one (rule 2).
TOLERANCE = 0.05


def load_cv_rows(cv_dir: Path) -> list[dict]:
    """Every row of ``cv_dir/fold<k>/scores.json`` that exists, in fold order."""
    rows = []
    for path in sorted(cv_dir.glob("fold*/scores.json")):
        rows += json.loads(path.read_text())
    return rows


def subject_mean(rows: list[dict], method: str, kind: str, metric: str = "sad") -> float:
    """Mean over subjects of each subject's mean ``metric`` for ``method`` on ``kind`` (nan when none)."""
    sel = [r for r in rows if r["method"] == method and r["kind"] == kind]
    subjects = sorted({r["subject"] for r in sel})
    if not subjects:
        return float("nan")
    return float(np.mean([np.mean([r[metric] for r in sel if r["subject"] == s]) for s in subjects]))


def fold_means(rows: list[dict], method: str, kind: str) -> list[float]:
    """Per fold (ascending), the mean of its subjects' mean SAD for ``method`` on ``kind``."""
    return [subject_mean([r for r in rows if r["fold"] == f], method, kind)
            for f in sorted({r["fold"] for r in rows})]


def export_default(rows: list[dict]) -> dict:
    """Rule 1 on cross-validated ``rows``: {'choice': 'fusion' | 'median' | 'export', 'tests': {candidate:
    {kind: [candidate SAD, export SAD, passed]}}}."""
    base = {k: subject_mean(rows, "export", k) for k in ("official", "wide", "painted")}
    tests, passing = {}, []
    for cand in ("fusion", "median"):
        got = {k: subject_mean(rows, cand, k) for k in base}
        ok = {"official": got["official"] < base["official"], "wide": got["wide"] < base["wide"],
              "painted": got["painted"] <= (1 + TOLERANCE) * base["painted"]}
        tests[cand] = {k: [got[k], base[k], ok[k]] for k in base}
        if all(ok.values()):
            passing.append(cand)
    choice = min(passing, key=lambda c: tests[c]["official"][0]) if passing else "export"
    return {"choice": choice, "tests": tests}


def network_rows(models: dict[str, str], subjects: tuple[str, ...] = V2_VAL) -> list[dict]:
    """Rows (subject, case, kind, method, sad, grad) scoring each stored network cache (``models``: label →
    cache name) on the scored cases of ``subjects``; a case missing from any cache is left out for all."""
    rows = []
    for case in iter_cases(subjects=set(subjects)):
        name = case.key.split("/", 1)[1]
        mattes = {label: network_matte(case.key, cache) for label, cache in models.items()}
        if name not in EVAL_CASES or any(m is None for m in mattes.values()):
            continue
        _, trimap, alpha, _ = case.float_inputs()
        for label, pred in mattes.items():
            s = evaluate_alpha(pred, alpha, trimap)
            rows.append({"subject": case.subject, "case": name, "kind": EVAL_CASES[name], "method": label,
                         "sad": s.sad, "grad": s.grad})
    return rows


def thin_rows(model: str) -> list[dict]:
    """Rows (subject 'thin', case, kind 'thin', structure: mesh, yarn, sheet or leaves, method, sad, grad) of
    closed-form, KNN, ``model``'s stored export matte ('export') and the median of the three on every
    procedural thin case (painted-style trimaps) that has a stored matte of ``model``. The fold recipe never
    trains on the thin generator, so for its fold teachers these are unseen thin structures: a proxy for
    the held-out photos' failure that decides nothing."""
    rows = []
    for case in iter_cases(subjects={"thin"}):
        if (inputs := case_inputs(case, model)) is None:
            continue
        _, trimap, alpha, mattes = inputs
        structure = thin_kind(case.key)
        for method, pred in untrained_methods(mattes, network=True).items():
            s = evaluate_alpha(pred, alpha, trimap)
            rows.append({"subject": "thin", "case": case.key.split("/", 1)[1], "kind": "thin",
                         "structure": structure, "method": method, "sad": s.sad, "grad": s.grad})
    return rows


def teacher_rule(rows: list[dict]) -> dict:
    """Rule 2 on ``network_rows({'shipped': …, 'folds': …})``: {'ships': bool, 'tests': {kind: [folds SAD,
    shipped SAD, passed]}} for official and wide trimaps (painted-style reported, not tested)."""
    tests = {}
    for kind in ("official", "wide", "painted"):
        folds, shipped = subject_mean(rows, "folds", kind), subject_mean(rows, "shipped", kind)
        tests[kind] = [folds, shipped, bool(folds <= (1 + TOLERANCE) * shipped)]
    return {"ships": tests["official"][2] and tests["wide"][2], "tests": tests}


#: How much worse a further training stage may be with official and wide trimaps (rule 5).
STAGE_TOLERANCE = 0.02


def stage_rule(rows: list[dict]) -> dict:
    """Rule 5 on ``network_rows({'base': …, 'stage': …}, all subjects)``: {'ships': bool, 'tests': {kind:
    [stage SAD, base SAD, passed]}}."""
    tests = {}
    for kind in ("official", "wide", "painted"):
        stage, base = subject_mean(rows, "stage", kind), subject_mean(rows, "base", kind)
        ok = stage < base if kind == "painted" else stage <= (1 + STAGE_TOLERANCE) * base
        tests[kind] = [stage, base, bool(ok)]
    return {"ships": all(t[2] for t in tests.values()), "tests": tests}


#: How the report names each method in its tables.
LABELS = {"closed_form": "closed-form", "knn": "KNN", "export": "export (teacher, mirror, refine)",
          "median": "median(export, closed-form, KNN)", "fusion": "network-aware fusion"}


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of cross-validated ``rows``: per method (in ``LABELS`` order), each kind's SAD (official,
    wide, painted-style, those present; mean of subject means, with the lowest and highest fold mean),
    Gradient with official trimaps, and the worst subject with official trimaps."""
    methods = [m for m in LABELS if any(r["method"] == m for r in rows)]
    kinds = [k for k in ("official", "wide", "painted") if any(r["kind"] == k for r in rows)]
    head = ["matte"] + [f"{k} SAD (folds)" for k in kinds] + ["Gradient, official", "worst subject, official"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for m in methods:
        cells = [LABELS[m]]
        for k in kinds:
            per_fold = [v for v in fold_means(rows, m, k) if not np.isnan(v)]
            span = f" ({min(per_fold):.2f}–{max(per_fold):.2f})" if per_fold else ""
            cells.append(f"{subject_mean(rows, m, k):.2f}{span}")
        cells.append(f"{subject_mean(rows, m, 'official', 'grad'):.2f}")
        official = [r for r in rows if r["method"] == m and r["kind"] == "official"]
        per_subject = {s: subject_mean([r for r in official if r["subject"] == s], m, "official")
                       for s in {r["subject"] for r in official}}
        worst = max(per_subject, key=per_subject.get, default=None)
        cells.append(f"{worst} {per_subject[worst]:.2f}" if worst else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
