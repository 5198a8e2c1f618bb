"""Knowledge distillation from the teacher's encoder (letter: Yoon, Park, Cho, SPL 2020).

Feature maps are (B, C, H, W); teacher and student share H and W at each stage
(same strides) and differ in C. Every similarity is computed on L2-normalised
vectors, so each loss is invariant to the scale of the features.

Kinds (combine with ``+`` on the command line, e.g. ``spatial+channel+output``):

* ``spatial``: per sample, positions' channel vectors normalised, A = F̂ᵀF̂ (hw×hw).
  Each map is average-pooled to at most ``SPATIAL_MAX_SIDE``² = 32² positions first
  (a no-op at strides ≥ 8 for 256² crops; a 320² crop would give 6400² matrices at
  stride 4). Training never forms A: ``spatial_similarity_mse`` gets the same MSE from
  channel-sized Gram matrices.
* ``channel``: per sample, channels' spatial vectors normalised, A = F̂F̂ᵀ (c×c),
  after a learned 1×1 conv maps the student's channels to the teacher's width.
* ``batch``: Tung & Mori's similarity-preserving loss, G = QQᵀ (b×b) over the
  flattened features with L2-normalised rows.
* ``decoder``: the ``spatial`` term on the four decoder fusions' outputs (strides 16…2)
  instead of the encoder stages — not in the letter; it tests whether the student falls
  short downstream of the encoder, where the encoder terms do not reach.
* ``attention``: attention transfer (Zagoruyko & Komodakis): the normalised
  map of channel-mean squared activations.
* ``output``: the student fits the teacher's alpha as well as the ground truth,
  L = w1·Lα(α_s, α_t) + (1−w1)·Lα(α_s, α_gt) on the unknown region.

Each feature term is the MSE between teacher and student matrices, summed over
the encoder stages it covers (``stages``: 1–4 at strides 4, 8, 16, 32, the letter's
blocks 2–5; all four by default), times its weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_KINDS = ("spatial", "channel", "batch", "attention", "decoder")
KINDS = FEATURE_KINDS + ("output",)
SPATIAL_MAX_SIDE = 32
STAGES = (1, 2, 3, 4)


def parse_kinds(spec: str) -> tuple[str, ...]:
    """'spatial+channel' → ('spatial', 'channel'); 'none' or '' → (); unknown kinds raise."""
    spec = spec.strip().lower()
    if spec in ("", "none"):
        return ()
    kinds = tuple(k.strip() for k in spec.split("+") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"unknown distillation kind(s) {bad}; choose from {list(KINDS)} or 'none'")
    return tuple(dict.fromkeys(kinds))


def parse_stages(spec: str) -> tuple[int, ...]:
    """'1+2+3' → (1, 2, 3); 'all' → (1, 2, 3, 4): the encoder stages the feature terms cover; others raise."""
    spec = spec.strip().lower()
    if spec == "all":
        return STAGES
    try:
        stages = tuple(sorted({int(s) for s in spec.split("+") if s.strip()}))
    except ValueError:
        stages = ()
    if not stages or any(s not in STAGES for s in stages):
        raise ValueError(f"distillation stages {spec!r}: give stages 1-4 joined with '+' (e.g. 1+2+3) or 'all'")
    return stages


def _unit_positions(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, C, N): pooled to at most 32 per side, each position's channel vector unit length."""
    if max(feat.shape[-2:]) > SPATIAL_MAX_SIDE:
        feat = F.adaptive_avg_pool2d(feat, (min(feat.shape[-2], SPATIAL_MAX_SIDE), min(feat.shape[-1], SPATIAL_MAX_SIDE)))
    return F.normalize(feat.flatten(2), dim=1)


def spatial_similarity(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, N, N) cosine similarity between positions, N ≤ 32²."""
    f = _unit_positions(feat)
    return f.transpose(1, 2) @ f


def spatial_similarity_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """MSE between the spatial similarity matrices of (B, Cs, H, W) and (B, Ct, H, W) maps, a scalar.

    Equal to ``F.mse_loss(spatial_similarity(student), spatial_similarity(teacher))`` without
    forming the (B, N, N) matrices: with unit-column maps S (Cs×N) and T (Ct×N),
    ‖SᵀS − TᵀT‖² = ‖SSᵀ‖² − 2‖STᵀ‖² + ‖TTᵀ‖², all channel-sized Gram matrices, so the cost is
    O(C²N) instead of O(CN²) (≈ 10× faster per training step's spatial term at 256² crops).
    The three squared norms are summed in float64, as the difference is far smaller than each.
    """
    s, t = _unit_positions(student), _unit_positions(teacher)
    b, n = s.shape[0], s.shape[-1]
    if t.shape[0] != b or t.shape[-1] != n:
        raise ValueError(f"student and teacher maps differ in batch or positions: {tuple(s.shape)} vs {tuple(t.shape)}")

    def gram_norm2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x @ y.transpose(1, 2)).double().square().sum()

    total = gram_norm2(s, s) - 2 * gram_norm2(s, t) + gram_norm2(t, t)
    return (total / (b * n * n)).to(student.dtype)


def channel_similarity(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, C, C) cosine similarity between channels."""
    f = F.normalize(feat.flatten(2), dim=2)  # (B, C, N), unit rows
    return f @ f.transpose(1, 2)


def batch_similarity(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, B): G = QQᵀ of flattened samples, rows L2-normalised (Tung & Mori)."""
    q = feat.flatten(1)
    return F.normalize(q @ q.t(), dim=1)


def attention_map(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, H·W): mean over channels of squared activations, L2-normalised."""
    return F.normalize(feat.pow(2).mean(1).flatten(1), dim=1)


class Distiller(nn.Module):
    """Feature distillation losses between student and teacher encoder stages.

    Holds the learned 1×1 connectors used by the channel term (trained together
    with the student). The encoder terms cover ``stages`` (1-based, strides 4…32);
    the decoder term always covers the four decoder fusions. ``forward`` returns a dict of named terms (already
    weighted) and their ``total``; gradients reach only student features and
    connectors, the teacher's features are detached.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        student_widths: Sequence[int],
        teacher_widths: Sequence[int],
        weights: dict[str, float] | None = None,
        stages: Sequence[int] = STAGES,
    ):
        super().__init__()
        self.kinds = tuple(k for k in kinds if k in FEATURE_KINDS)
        self.stages = tuple(stages)
        self.weights = {k: 1.0 for k in FEATURE_KINDS} | dict(weights or {})
        self.connectors = nn.ModuleList(
            nn.Conv2d(cs, ct, 1, bias=False) for cs, ct in zip(student_widths, teacher_widths)
        )

    def forward(
        self,
        student: Sequence[torch.Tensor],
        teacher: Sequence[torch.Tensor],
        student_decoder: Sequence[torch.Tensor] = (),
        teacher_decoder: Sequence[torch.Tensor] = (),
    ) -> dict[str, torch.Tensor]:
        terms: dict[str, torch.Tensor] = {}
        for kind in self.kinds:
            loss = student[0].new_zeros(())
            if kind == "decoder":
                if not teacher_decoder:
                    raise ValueError("the decoder term needs the decoder maps of both networks")
                for fs, ft in zip(student_decoder, teacher_decoder, strict=True):
                    loss = loss + spatial_similarity_mse(fs, ft.detach())
                terms["kd_decoder"] = self.weights[kind] * loss
                continue
            for i, (fs, ft) in enumerate(zip(student, teacher)):
                if i + 1 not in self.stages:
                    continue
                ft = ft.detach()
                if kind == "spatial":
                    loss = loss + spatial_similarity_mse(fs, ft)
                elif kind == "channel":
                    loss = loss + F.mse_loss(channel_similarity(self.connectors[i](fs)), channel_similarity(ft))
                elif kind == "batch":
                    loss = loss + F.mse_loss(batch_similarity(fs), batch_similarity(ft))
                elif kind == "attention":
                    loss = loss + F.mse_loss(attention_map(fs), attention_map(ft))
            terms[f"kd_{kind}"] = self.weights[kind] * loss
        terms["kd_total"] = sum(terms.values(), student[0].new_zeros(()))
        return terms
