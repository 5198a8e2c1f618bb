"""Matting losses, as pure functions of tensors.

Shapes: alpha tensors (B, 1, H, W) in [0, 1]; colour tensors (B, 3, H, W) in
[0, 1]; ``unknown`` masks (B, 1, H, W) float in {0, 1}. Each loss is normalised
by the number of unknown pixels, so a wide and a narrow band weigh the same.
"""

from __future__ import annotations

import torch

CHARBONNIER_EPS = 1e-6


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Σ(x·mask) / Σ(mask), with mask broadcast over x's channels."""
    weight = mask.expand_as(x)
    return (x * weight).sum() / weight.sum().clamp_min(1.0)


def _charbonnier_map(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """√((pred − target)² + ε²) per element, ε = 1e-6."""
    return torch.sqrt((pred - target) ** 2 + CHARBONNIER_EPS**2)


def charbonnier(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """√((pred − target)² + ε²), ε = 1e-6, averaged over the masked pixels."""
    return _masked_mean(_charbonnier_map(pred, target), mask)


def composition_loss(
    alpha: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor, image: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Charbonnier between αF + (1−α)B and the input image, over the masked pixels."""
    comp = alpha * fg + (1.0 - alpha) * bg
    return charbonnier(comp, image, mask)


def gradient_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 between forward differences of pred and target (x and y), over the masked pixels."""
    dxp = pred[..., :, 1:] - pred[..., :, :-1]
    dxt = target[..., :, 1:] - target[..., :, :-1]
    dyp = pred[..., 1:, :] - pred[..., :-1, :]
    dyt = target[..., 1:, :] - target[..., :-1, :]
    mx = mask[..., :, 1:] * mask[..., :, :-1]
    my = mask[..., 1:, :] * mask[..., :-1, :]
    return _masked_mean((dxp - dxt).abs(), mx) + _masked_mean((dyp - dyt).abs(), my)


def matting_loss(
    alpha: torch.Tensor,
    batch: dict[str, torch.Tensor],
    w_alpha: float = 1.0,
    w_comp: float = 0.5,
    w_grad: float = 0.5,
    teacher_alpha: torch.Tensor | None = None,
    w1: float = 0.5,
    teacher_gate: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Named loss terms against the ground truth, plus ``total``.

    batch holds ``alpha``, ``unknown``, ``fg``, ``bg``, ``image`` and ``has_fb``
    (B,) 1 where F and B are known (composites), 0 for original photos, whose
    composition term is skipped. With ``teacher_alpha`` (the letter's output
    term) the alpha term becomes w1·Lα(α, α_teacher) + (1−w1)·Lα(α, α_gt).
    With ``teacher_gate`` < 1 that mix applies only on the unknown pixels where
    |α_teacher − α_gt| ≤ teacher_gate; where the teacher is further off, the
    pixel's alpha term is Lα(α, α_gt) alone, so the student is not pulled
    towards the teacher's mistakes (the share trusted is logged as
    ``teacher_trusted``).
    """
    unknown = batch["unknown"]
    to_gt = _charbonnier_map(alpha, batch["alpha"])
    terms = {"alpha_gt": _masked_mean(to_gt, unknown)}
    if teacher_alpha is None:
        terms["alpha"] = terms["alpha_gt"]
    else:
        to_teacher = _charbonnier_map(alpha, teacher_alpha)
        terms["alpha_teacher"] = _masked_mean(to_teacher, unknown)
        if teacher_gate >= 1.0:
            terms["alpha"] = w1 * terms["alpha_teacher"] + (1.0 - w1) * terms["alpha_gt"]
        else:  # the per-pixel maps above, mixed only where the teacher is trusted
            trusted = ((teacher_alpha - batch["alpha"]).abs() <= teacher_gate).to(alpha.dtype)
            mixed = trusted * (w1 * to_teacher + (1.0 - w1) * to_gt) + (1.0 - trusted) * to_gt
            terms["alpha"] = _masked_mean(mixed, unknown)
            terms["teacher_trusted"] = _masked_mean(trusted, unknown)
    fb_mask = unknown * batch["has_fb"].view(-1, 1, 1, 1)
    terms["comp"] = composition_loss(alpha, batch["fg"], batch["bg"], batch["image"], fb_mask)
    terms["grad"] = gradient_loss(alpha, batch["alpha"], unknown)
    terms["total"] = w_alpha * terms["alpha"] + w_comp * terms["comp"] + w_grad * terms["grad"]
    return terms
