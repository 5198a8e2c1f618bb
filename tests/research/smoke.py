"""Shared settings of the trainer's smoke runs (generated data, a few steps) and reading their logs."""

import json
from pathlib import Path

#: A trainer run small enough for a test: 64² crops of generated data, no validation.
SMOKE = dict(batch=4, size=64, data="synthetic", workers=0, warmup=2, log_every=1, val_every=0, lr=3e-3)


def logged_losses(run: Path) -> list[float]:
    """The total training loss of each step logged in ``run/log.jsonl``, in order."""
    return [r["total"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "total" in r]
