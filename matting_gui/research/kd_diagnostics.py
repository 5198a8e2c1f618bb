"""Why does (or doesn't) distillation help? Measurements of students against their teacher.

``matting-lab kd-diagnostics`` runs the teacher and each student on the same images and
reports, per student:

* **fit vs. generalisation**: SAD on the training photos (official trimaps) next to SAD on
  the validation set, for the teacher too — a teacher that only memorised its 15 training
  subjects has little to teach on unseen ones;
* **headroom**: on how many validation images the teacher beats the student at all, and
  the SAD between student and teacher alphas (how far the student is from imitating it);
* **error correlation**: Pearson correlation of |α_s − α_gt| and |α_t − α_gt| over unknown
  pixels — high means the student already makes the teacher's mistakes;
* **representation similarity** per encoder stage and decoder output: the spatial-similarity gap (the MSE
  the spatial term minimises, on ≤32² pooled positions) and linear CKA (Kornblith et al.
  2019) between student and teacher features, which needs no learned connector and so
  also measures students trained without distillation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from matting_gui.core.evaluation.metrics import sad, unknown_mask
from matting_gui.core.inference.forward import force_known, network_input, trimap_encoding
from matting_gui.core.nets.network import MattingNet
from matting_gui.core.nets.weights import load_network
from matting_gui.research.data.validation import ValItem, build_validation_set
from matting_gui.research.distill import spatial_similarity_mse


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA between (N, Cx) and (N, Cy) feature matrices (rows: positions); in [0, 1]."""
    x = x.double() - x.double().mean(0, keepdim=True)
    y = y.double() - y.double().mean(0, keepdim=True)
    cross = (y.t() @ x).pow(2).sum()
    norm = torch.linalg.matrix_norm(x.t() @ x) * torch.linalg.matrix_norm(y.t() @ y)
    return float(cross / norm) if norm > 0 else 0.0


def forward(model: MattingNet, image: np.ndarray, trimap: np.ndarray) -> tuple[np.ndarray, tuple[torch.Tensor, ...]]:
    """Alpha float32 (H, W) in [0, 1] (known region forced) and the feature maps (1, C, h, w):
    the 4 encoder stages, then the 4 decoder outputs."""
    h, w = trimap.shape
    with torch.inference_mode():
        out = model(network_input(image, trimap, torch.device("cpu"), trimap_encoding(model)))
    alpha = np.array(out.alpha[0, 0, :h, :w].float().numpy(), dtype=np.float32)
    return force_known(alpha, trimap), tuple(f.float().contiguous() for f in (*out.features, *out.decoder))


def stage_similarity(fs: torch.Tensor, ft: torch.Tensor) -> tuple[float, float]:
    """(spatial-similarity MSE, linear CKA) between one stage's student and teacher maps (1, C, h, w)."""
    gap = float(spatial_similarity_mse(fs, ft))
    cka = linear_cka(fs[0].flatten(1).t(), ft[0].flatten(1).t())
    return gap, cka


@dataclass
class StudentReport:
    """Everything measured for one student against the teacher (SADs in thousands, as in the tables)."""

    label: str
    sad: dict[str, float] = field(default_factory=dict)  # split → mean SAD
    sad_by_subject: dict[str, float] = field(default_factory=dict)  # val subject → mean SAD of its items
    sad_to_teacher: float = 0.0  # mean SAD(student α, teacher α) on val
    teacher_wins: float = 0.0  # fraction of val items where the teacher's SAD is lower
    error_correlation: float = 0.0  # val, unknown pixels
    spatial_gap: list[float] = field(default_factory=list)  # per encoder stage, then decoder output; val mean
    cka: list[float] = field(default_factory=list)  # same order

    def as_dict(self) -> dict:
        """JSON-friendly copy."""
        return dict(self.__dict__)


def diagnose(teacher: MattingNet, students: dict[str, MattingNet], items: list[ValItem]) -> tuple[dict[str, float], list[StudentReport]]:
    """Teacher's mean SAD per split (and per val subject, keys 'subject:<stem>'), and one
    ``StudentReport`` per student (all on CPU, eval mode). Items of kind 'train' count as the
    training split, all others as validation; names are '<subject>/<variant>'."""
    reports = {label: StudentReport(label) for label in students}
    acc: dict[str, dict[str, list]] = {label: {} for label in students}
    teacher_sad: dict[str, list[float]] = {}
    teacher_subject: dict[str, list[float]] = {}
    for item in items:
        split = "train" if item.kind == "train" else "val"
        ta, tf = forward(teacher, item.image, item.trimap)
        t_sad = sad(ta, item.alpha, item.trimap)
        teacher_sad.setdefault(split, []).append(t_sad)
        subject = item.name.split("/")[0]
        if split == "val":
            teacher_subject.setdefault(subject, []).append(t_sad)
        m = unknown_mask(item.trimap)
        t_err = np.abs(ta - item.alpha)[m]
        for label, model in students.items():
            a = acc[label]
            sa, sf = forward(model, item.image, item.trimap)
            s_sad = sad(sa, item.alpha, item.trimap)
            a.setdefault(f"sad_{split}", []).append(s_sad)
            if split != "val":  # training photos: only the fit (SAD) is measured
                continue
            a.setdefault(f"subject:{subject}", []).append(s_sad)
            a.setdefault("to_teacher", []).append(sad(sa, ta, item.trimap))
            a.setdefault("wins", []).append(float(t_sad < s_sad))
            s_err = np.abs(sa - item.alpha)[m]
            if s_err.std() > 0 and t_err.std() > 0:
                a.setdefault("corr", []).append(float(np.corrcoef(s_err, t_err)[0, 1]))
            for i, (fs, ft) in enumerate(zip(sf, tf)):
                gap, cka = stage_similarity(fs, ft)
                a.setdefault(f"gap{i}", []).append(gap)
                a.setdefault(f"cka{i}", []).append(cka)
    for label, rep in reports.items():
        a = acc[label]
        rep.sad = {k[4:]: float(np.mean(v)) for k, v in a.items() if k.startswith("sad_")}
        rep.sad_by_subject = {k[8:]: float(np.mean(v)) for k, v in a.items() if k.startswith("subject:")}
        rep.sad_to_teacher = float(np.mean(a.get("to_teacher", [np.nan])))
        rep.teacher_wins = float(np.mean(a.get("wins", [np.nan])))
        rep.error_correlation = float(np.mean(a.get("corr", [np.nan])))
        stages = len(teacher.config.widths) + len(teacher.config.decoder)
        rep.spatial_gap = [float(np.mean(a.get(f"gap{i}", [np.nan]))) for i in range(stages)]
        rep.cka = [float(np.mean(a.get(f"cka{i}", [np.nan]))) for i in range(stages)]
    summary = {k: float(np.mean(v)) for k, v in teacher_sad.items()}
    summary |= {f"subject:{k}": float(np.mean(v)) for k, v in teacher_subject.items()}
    return summary, list(reports.values())


def load_items(train_photos: bool = True, split: str = "v1") -> list[ValItem]:
    """The validation set of ``split`` (photos, wide trimaps on v2, composites) and, optionally, that
    split's training photos with their official trimaps."""
    from matting_gui.research.data.sources import load_official_trimaps, load_split, load_subjects

    items = build_validation_set(split)
    if train_photos:
        for subj in load_subjects(load_split(split)["train"]):
            for tname, tri in load_official_trimaps(subj.stem).items():
                items.append(ValItem(f"{subj.stem}/{tname}", "train", subj.image, tri, subj.alpha))
    return items


def run(teacher: str | os.PathLike, students: dict[str, str | os.PathLike], train_photos: bool = True,
        split: str = "v1") -> dict:
    """Load the models, measure on the real data of ``split`` ('v1' or 'v2'), and return a JSON-friendly dict."""
    t_model, _ = load_network(teacher, "cpu")
    s_models = {label: load_network(path, "cpu")[0] for label, path in students.items()}
    for m in (t_model, *s_models.values()):
        m.eval()
    teacher_sad, reports = diagnose(t_model, s_models, load_items(train_photos, split))
    return {"split": split, "teacher": {"path": str(teacher), "sad": teacher_sad},
            "students": [r.as_dict() for r in reports]}


def markdown(result: dict) -> str:
    """Two Markdown tables: fit/headroom per model, representation similarity per stage."""
    t = result["teacher"]["sad"]
    out = ["| model | SAD train photos | SAD val (all) | SAD to teacher (val) | teacher better on | error corr. with teacher |",
           "|---|---:|---:|---:|---:|---:|",
           f"| teacher | {t.get('train', float('nan')):.2f} | {t.get('val', float('nan')):.2f} | – | – | – |"]
    for s in result["students"]:
        out.append(f"| {s['label']} | {s['sad'].get('train', float('nan')):.2f} | {s['sad'].get('val', float('nan')):.2f} | "
                   f"{s['sad_to_teacher']:.2f} | {100 * s['teacher_wins']:.0f} % | {s['error_correlation']:.2f} |")
    names = [f"encoder {i + 1}" for i in range(4)] + [f"decoder 1/{2 ** (4 - i)}" for i in range(4)]
    for part, cols in (("encoder", range(0, 4)), ("decoder", range(4, 8))):
        out += ["", f"| model: {part} gap / CKA | " + " | ".join(names[i] for i in cols) + " |", "|---|" + "---:|" * 4]
        for s in result["students"]:
            cells = " | ".join(f"{s['spatial_gap'][i] * 1e3:.1f} / {s['cka'][i]:.3f}" for i in cols if i < len(s["cka"]))
            out.append(f"| {s['label']} | {cells} |")
    subjects = sorted(k[8:] for k in t if k.startswith("subject:"))
    if subjects:
        out += ["", "| model (val SAD per subject) | " + " | ".join(subjects) + " |", "|---|" + "---:|" * len(subjects),
                "| teacher | " + " | ".join(f"{t['subject:' + k]:.2f}" for k in subjects) + " |"]
        for s in result["students"]:
            out.append(f"| {s['label']} | " + " | ".join(f"{s['sad_by_subject'].get(k, float('nan')):.2f}" for k in subjects) + " |")
    return "\n".join(out) + "\n"
