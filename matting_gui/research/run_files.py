"""The files of a run folder, written so that a crash or a planted link never corrupts them:
atomic checkpoint saves and the JSON-lines log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from matting_gui.core.files.safe_write import append_text, atomic_write_bytes, atomic_write_with


def atomic_torch_save(obj: dict, path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, then an atomic rename over it (``safe_write``)."""
    atomic_write_with(path, lambda tmp: torch.save(obj, tmp))


def save_state(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, step: int, rng) -> None:
    """A small run's whole state (model, optimiser, step, numpy ``Generator`` state) saved atomically."""
    atomic_torch_save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                       "rng": json.dumps(rng.bit_generator.state)}, path)


def load_state(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, rng) -> int:
    """Restore ``save_state``'s file into ``model``, ``opt`` and ``rng`` (never unpickles); returns the step
    (0 when there is no file: a fresh run)."""
    if not path.exists():
        return 0
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    rng.bit_generator.state = json.loads(state["rng"])
    return int(state["step"])


class RunLog:
    """JSON lines log (rank 0 only) plus human-readable progress."""

    def __init__(self, path: Path, enabled: bool):
        self.path = path
        self.enabled = enabled

    def write(self, record: dict) -> None:
        """Append one JSON record (rank 0 only)."""
        if not self.enabled:
            return
        append_text(self.path, json.dumps(record) + "\n")  # a link planted at log.jsonl is refused

    def truncate_after(self, step: int) -> None:
        """Drop records of steps after ``step`` (written after the checkpoint a resume starts from).

        Without this a resumed run logs those steps twice. Atomic rewrite; unparsable lines are kept.
        """
        if not (self.enabled and self.path.exists()):
            return
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                record_step = json.loads(line).get("step", 0)
            except (ValueError, AttributeError):
                record_step = 0
            if isinstance(record_step, int) and record_step <= step:
                kept.append(line)
        atomic_write_bytes(self.path, "".join(f"{line}\n" for line in kept).encode())

    def say(self, text: str) -> None:
        """Print a progress line to stderr (rank 0 only)."""
        if self.enabled:
            print(text, file=sys.stderr, flush=True)
