"""The results table: every model (and closed-form matting) on the validation set.

``matting-lab report`` evaluates the committed weights — ``models/teacher``,
``models/student`` and every ``models/ablation/*.safetensors`` — plus pymatting's
closed-form matting, on the validation photos (official trimaps) and the
validation composites, and prints Markdown tables with MSE, SAD, Grad and Conn,
parameters, MACs at 512² and CPU latency.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch

from matting_gui.core.evaluation.metrics import MattingScores, mean_scores
from matting_gui.core.files.paths import models_dir
from matting_gui.core.inference.predictor import Predictor, forward_times, speed_probe
from matting_gui.core.inference.refine import GROW, PIN, closed_form, guided_closed_form
from matting_gui.core.nets.network import count_macs
from matting_gui.research.data.validation import ValItem, build_validation_set, evaluate

#: The ablation variants: each feature kind is trained together with the output term,
#: as in the letter's full loss, so each row isolates what the feature term adds to "output".
ABLATION_VARIANTS = {
    "none": "none",
    "output": "output",
    "attention": "attention+output",
    "batch": "batch+output",
    "spatial": "spatial+output",
    "channel": "channel+output",
    "spatial+channel": "spatial+channel+output",
    "batch+spatial+channel": "batch+spatial+channel+output",
}


#: Label prefix of the ablation rows (they get tables of their own).
ABLATION_PREFIX = "ablation: "


def default_models() -> dict[str, Path]:
    """Label → weights path for everything committed under ``models/``."""
    found: dict[str, Path] = {}
    for name, label in (("teacher", "teacher"), ("experiments/teacher_resnet", "earlier teacher (residual, v1 recipe)"),
                        ("student", "student, distilled"),
                        ("student_nokd", "student, no distillation"),
                        ("experiments/student_narrow_sp", "narrow student, distilled"),
                        ("experiments/student_narrow_nokd", "narrow student, no distillation"),
                        ("experiments/student_sp_decoder", "narrow student, distilled + decoder term"),
                        ("experiments/student_sp_decay", "narrow student, distilled, teacher terms fading")):
        p = models_dir() / f"{name}.safetensors"
        if p.exists():
            found[label] = p
    for variant in ABLATION_VARIANTS:  # in the letter's table order
        p = models_dir() / "ablation" / f"{variant.replace('+', '_')}.safetensors"
        if p.exists():
            found[f"{ABLATION_PREFIX}{variant}"] = p
    return found


def latency_ms(model, side: int = 512, repeats: int = 5, mirror: bool = False) -> float:
    """Median wall time (ms) of one forward pass at side×side on the model's device (mirror: the
    mirror-averaged result, two passes), on the predictor's speed probe."""
    return statistics.median(forward_times(model, *speed_probe(side), repeats=repeats, mirror=mirror)) * 1000


def evaluate_models(models: dict[str, Path], include_closed_form: bool = True, items: list[ValItem] | None = None,
                    threads: int | None = None, int8: tuple[str, ...] = (),
                    mirror: tuple[str, ...] = (), refine: tuple[str, ...] = (),
                    exported: tuple[str, ...] = ()) -> list[dict]:
    """One row per model: label, params, MACs, latency and mean metrics per validation kind.

    int8: labels of ``models`` to evaluate a second time as static-int8 (an extra row each);
    mirror: labels to evaluate a second time averaged with the mirrored image (an extra row each);
    refine: labels to evaluate a second time with network-guided closed-form refinement (``refine``);
    exported: labels to evaluate mirror-averaged and then refined, as export's defaults do.
    """
    if threads:
        torch.set_num_threads(threads)
    items = items if items is not None else build_validation_set()
    rows = []
    runs = [(label, path, "fp32", False, False) for label, path in models.items()]
    runs += [(f"{label}, int8", models[label], "int8", False, False) for label in int8 if label in models]
    runs += [(f"{label}, mirror-averaged", models[label], "fp32", True, False) for label in mirror if label in models]
    runs += [(f"{label}, refined", models[label], "fp32", False, True) for label in refine if label in models]
    runs += [(f"{label}, as exported (mirror-averaged, refined)", models[label], "fp32", True, True)
             for label in exported if label in models]
    for label, path, precision, mirrored, refined in runs:
        pred = Predictor(path, "cpu", precision=precision)
        card = pred.card
        net = pred.network  # fused and channels_last (or int8): the latency the app and CLI see

        def predict(img, tri, p=pred, m=mirrored, r=refined):  # refined with the model card's settings, as export
            return p.predict(img, tri, mirror=m, refine=r).alpha

        means, per_item = evaluate(predict, items)
        rows.append({
            "label": label, "path": str(path), "parameters": card.get("parameters"), "precision": precision,
            "macs_512": count_macs(pred.model, 512, 512) * (2 if mirrored else 1), "latency_ms_512": latency_ms(net, mirror=mirrored),
            "steps": card.get("training", {}).get("steps"), "kd": card.get("training", {}).get("kd"),
            "mirror": mirrored, "refined": refined,
            "metrics": {k: v.as_dict() for k, v in means.items()},
            **subject_tables(per_item, items),
        })
    if include_closed_form:
        t0 = time.perf_counter()
        means, per_item = evaluate(closed_form, items)
        rows.append({"label": "closed-form (pymatting)", "parameters": None, "macs_512": None,
                     "latency_ms_512": None, "seconds_per_image": (time.perf_counter() - t0) / max(1, len(items)),
                     "metrics": {k: v.as_dict() for k, v in means.items()},
                     **subject_tables(per_item, items)})
    return rows


def refine_sweep(model: Path, items: list[ValItem], strengths: tuple[float, ...],
                 sharpness: tuple[float, ...] = (2.0,), reach: float = 0.0, pin: float = PIN,
                 grow: float = GROW) -> list[dict]:
    """Mean scores per validation kind of ``model`` refined (``refine.guided_closed_form``) at each
    (strength, sharpness), after the unrefined network (strength None), with the per-subject tables
    of ``subject_tables``; reach, pin and grow as in ``guided_closed_form``. The network runs once per item."""
    from matting_gui.core.evaluation.metrics import evaluate_alpha

    pred = Predictor(model, "cpu")
    alphas = [pred.predict(item.image, item.trimap).alpha for item in items]
    settings = [(None, None)] + [(st, sh) for st in strengths for sh in sharpness]
    rows = []
    for strength, sharp in settings:
        per_kind: dict[str, list[MattingScores]] = {}
        per_item: dict[str, MattingScores] = {}
        for item, alpha in zip(items, alphas):
            if strength is not None:
                alpha = guided_closed_form(item.image, item.trimap, alpha, strength, sharp, reach=reach, pin=pin, grow=grow)
            scores = per_item[item.name] = evaluate_alpha(alpha, item.alpha, item.trimap)
            per_kind.setdefault(item.kind, []).append(scores)
            per_kind.setdefault("all", []).append(scores)
        rows.append({"strength": strength, "sharpness": sharp, "reach": reach, "pin": pin, "grow": grow,
                     "metrics": {k: mean_scores(v).as_dict() for k, v in per_kind.items()},
                     **subject_tables(per_item, items)})
    return rows


def photo_subjects(per_item: dict[str, MattingScores], items: list[ValItem],
                   kind: str = "photo") -> dict[str, dict[str, float]]:
    """Mean scores per photographed subject (the part of the item name before '/'), items of ``kind`` only."""
    groups: dict[str, list[MattingScores]] = {}
    for item in items:
        if item.kind == kind:
            groups.setdefault(item.name.split("/")[0], []).append(per_item[item.name])
    return {subject: mean_scores(scores).as_dict() for subject, scores in groups.items()}


def subject_tables(per_item: dict[str, MattingScores], items: list[ValItem]) -> dict[str, dict]:
    """The per-subject means of each photographed kind, keyed 'photo_subjects', 'wide_subjects', …"""
    return {f"{kind}_subjects": photo_subjects(per_item, items, kind) for kind in ("photo", "wide", "unpainted")}


def markdown(rows: list[dict]) -> str:
    """The README tables: one per validation kind, plus model size and speed."""
    out = []
    main = [r for r in rows if not r["label"].startswith(ABLATION_PREFIX)]
    ablation = [r for r in rows if r["label"].startswith(ABLATION_PREFIX)]
    groups = [(main, "")]
    if ablation:
        steps = sorted({str(r.get("steps")) for r in ablation})
        groups.append((ablation, f"Ablation (narrow student), {'/'.join(steps)} steps per variant — "))
    for group, prefix in groups:
        for kind, title in (("photo", "validation photos, official trimaps"),
                            ("wide", "validation photos, wide painted-style trimaps"),
                            ("composite", "validation composites"),
                            ("unpainted", "validation photos, wide trimaps with the foreground unpainted")):
            if not any(kind in r["metrics"] for r in group):
                continue
            heading = f"{prefix}{title}" if prefix else title[0].upper() + title[1:]
            out += [f"**{heading}** (lower is better)", "", "| method | MSE | SAD | Grad | Conn |",
                    "|---|---:|---:|---:|---:|"]
            for r in group:
                m = r["metrics"].get(kind)
                if m:
                    label = r["label"].removeprefix(ABLATION_PREFIX)
                    out.append(f"| {label} | {m['mse']:.4f} | {m['sad']:.2f} | {m['grad']:.2f} | {m['conn']:.2f} |")
            out.append("")
    for key, title in (("photo_subjects", "mean over the official trimaps"), ("wide_subjects", "wide trimap"),
                       ("unpainted_subjects", "wide trimap, foreground unpainted")):
        subjects = sorted({s for r in main for s in r.get(key, {})})
        if not subjects:
            continue
        out += [f"**Validation photos per subject** (SAD / Grad, {title})", "",
                "| method | " + " | ".join(subjects) + " |", "|---|" + "---:|" * len(subjects)]
        for r in main:
            per = r.get(key, {})
            cells = [f"{per[s]['sad']:.2f} / {per[s]['grad']:.2f}" if s in per else "–" for s in subjects]
            out.append(f"| {r['label']} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["| model | parameters | MACs at 512² | CPU latency at 512² | weights from step | distillation |",
            "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if r.get("parameters"):
            out.append(f"| {r['label']} | {r['parameters']:,} | {r['macs_512'] / 1e9:.2f} G | "
                       f"{r['latency_ms_512']:.0f} ms | {r.get('steps') or '?'} | {r.get('kd') or '?'} |")
    return "\n".join(out) + "\n"


def write_json(rows: list[dict], path: str | Path) -> None:
    """Write the report rows as JSON, atomically."""
    from matting_gui.core.files.safe_write import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(rows, indent=2) + "\n").encode())
