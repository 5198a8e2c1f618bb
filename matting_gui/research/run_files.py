"""The files of a run folder, written so that a crash or a planted link never corrupts them:
atomic checkpoint saves and the JSON-lines log."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import torch


def unique_temp(path: Path) -> Path:
    """A new, unique file beside ``path`` (mkstemp: never an existing name, never through a link)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; a checkpoint or log is an ordinary file
    return Path(tmp)


def atomic_torch_save(obj: dict, path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, then an atomic rename over it."""
    tmp = unique_temp(path)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)  # replaces a link planted at ``path`` itself, never its target
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class RunLog:
    """JSON lines log (rank 0 only) plus human-readable progress."""

    def __init__(self, path: Path, enabled: bool):
        self.path = path
        self.enabled = enabled

    def write(self, record: dict) -> None:
        """Append one JSON record (rank 0 only)."""
        if not self.enabled:
            return
        # O_NOFOLLOW: a link planted at log.jsonl is refused, not written through
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "a") as f:
            f.write(json.dumps(record) + "\n")

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
        tmp = unique_temp(self.path)
        tmp.write_text("".join(f"{line}\n" for line in kept))
        os.replace(tmp, self.path)

    def say(self, text: str) -> None:
        """Print a progress line to stderr (rank 0 only)."""
        if self.enabled:
            print(text, file=sys.stderr, flush=True)
