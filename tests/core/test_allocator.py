"""keep_freed_memory: freed working memory is reused instead of faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Per round, as in a forward pass: thirty 4 MB blocks alive together, then all freed; prints the
# minor page faults of the last three rounds (the first two warm up). With glibc's defaults most of
# the 120 MB goes back to the OS every round and is faulted in again (~8,000-15,000 faults a round
# here, on the main thread and on a second one).
_ROUNDS = """
import resource, sys, threading
import numpy as np
from matting_gui.core.inference.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "tuned" else False
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
counted = []
def rounds():
    for i in range(5):
        if i == 2:
            start = faults()
        blocks = [np.ones(2**20, np.float32) for _ in range(30)]
        del blocks
    counted.append(faults() - start)
if sys.argv[2] == "worker":  # as the app's inference worker
    thread = threading.Thread(target=rounds)
    thread.start()
    thread.join()
else:
    rounds()
print(applied, counted[0])
"""

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")


def _rounds(mode: str, thread: str) -> tuple[bool, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _ROUNDS, mode, thread], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


@glibc_only
@pytest.mark.parametrize("thread", ["main", "worker"])
def test_freed_blocks_are_reused_without_page_faults(thread):
    applied, kept = _rounds("tuned", thread)
    if not applied:
        pytest.skip("not glibc: the settings do not apply")
    _, default = _rounds("default", thread)
    assert default > 10_000  # the pattern does cost faults by default
    assert kept < 100


def test_user_settings_in_the_environment_win():
    env = dict(os.environ, MALLOC_ARENA_MAX="4")
    out = subprocess.run([sys.executable, "-c", "from matting_gui.core.inference.allocator import keep_freed_memory as k; "
                          "print(k(), k())"], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]
