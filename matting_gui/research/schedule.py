"""The learning-rate schedule and optimiser step of the small runs (solver fusion, solver-reading teacher)."""

from __future__ import annotations

import math

import torch

WARMUP = 50


def warmup_cosine(step: int, lr: float, steps: int, warmup: int = WARMUP) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up over ``warmup`` steps to ``lr``, then cosine
    decay to 5 % of ``lr`` at ``steps``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def optimiser_step(opt: torch.optim.Optimizer, loss: torch.Tensor, lr: float) -> None:
    """One step of ``opt`` on ``loss`` at learning rate ``lr``."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad()
    loss.backward()
    opt.step()
