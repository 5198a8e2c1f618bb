"""What both command lines share (``matting-cli`` and ``matting-lab``): one-line errors and running
a parsed sub-command with the same exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from matting_gui.core.files.paths import printable
from matting_gui.core.inference.allocator import keep_freed_memory


def print_error(msg: str) -> None:
    """Print ``error: msg`` to stderr on one line (control characters escaped)."""
    print(printable(f"error: {msg}"), file=sys.stderr, flush=True)


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl+C, so every write in progress removes its temporary file."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame) -> None:
    raise Stopped(signum)


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv`` and run the chosen sub-command's ``func``; returns the exit code. Shared by
    ``matting-cli`` and ``matting-lab``: a closed pipe ends quietly, Ctrl+C exits 130, SIGTERM and SIGHUP
    exit 128 + the signal's number once the write in progress has cleaned up (no ``.part`` file is left;
    a command may install its own handler meanwhile, as training does to checkpoint). Freed working memory
    is kept for the next matte or step (``allocator.keep_freed_memory``), as the app does."""
    keep_freed_memory()
    args = parser.parse_args(argv)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                previous[sig] = signal.signal(sig, _stop)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `matting-cli info | head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Stopped as stop:
        print_error(f"stopped by {stop}")
        return 128 + stop.signum
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
