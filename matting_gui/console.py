"""What both command lines share (``matting-cli`` and ``matting-lab``): one-line errors and running
a parsed sub-command with the same exit codes."""

from __future__ import annotations

import argparse
import os
import sys

from matting_gui.core.files.paths import printable


def print_error(msg: str) -> None:
    """Print ``error: msg`` to stderr on one line (control characters escaped)."""
    print(printable(f"error: {msg}"), file=sys.stderr, flush=True)



def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv`` and run the chosen sub-command's ``func``; returns the exit code. Shared by
    ``matting-cli`` and ``matting-lab``: a closed pipe ends quietly, Ctrl+C exits 130."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `matting-cli info | head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
