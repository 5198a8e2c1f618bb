"""The C allocator's settings for repeated inference: keep freed working memory for the next matte.

With glibc's defaults a forward pass gives much of its activations back to the operating system
when it ends (blocks of a few MB are mmapped, or trimmed off the heap's top), so the next pass
faults every page of them in again, zero-filled by the kernel. ``keep_freed_memory`` raises the
thresholds once per process: freed blocks under 32 MB stay in the heap for reuse, larger ones
(photos, the teacher's widest activations) still go straight back.

Measured (``python bench/allocator.py``, 2 threads, 1 MP, 2026-12-03): the student's page faults per
matte 16,200 → 0 and its time 179 → 141 ms (on a worker thread, as in the app, 193 → 159 ms); the
process keeps ~110 MB more between mattes. The teacher's blocks are mostly over 32 MB: 1,021 →
993 ms. A full CLI export peaks 3 % higher (24 MP: 1,684 → 1,741 MB; 110 MP: 3,582 → 3,700 MB).
Not adopted: turning mmap off altogether made the teacher 1.0 → 0.74 s, but then every block,
photos included, stays in the heap, and the process would keep about a gigabyte after a matte.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Blocks at least this large are mmapped and returned on free (glibc's largest allowed threshold
#: on 64-bit systems, 32 MB): a 24 MP photo never lingers in the heap.
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free memory at the heap's top is given back only beyond this: the most freed working memory
#: that stays with the process between mattes.
TRIM_THRESHOLD = 256 * 1024 * 1024

#: Environment variables through which a user sets glibc's malloc; when any is set it wins.
_USER_SETTINGS = ("MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_",
                  "GLIBC_TUNABLES")

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's malloc so freed blocks under ``MMAP_THRESHOLD`` are kept for reuse (up to
    ``TRIM_THRESHOLD`` free at the heap's top), and all threads share one arena, so the app's
    inference worker reuses memory as the main thread does (each extra arena is a 64 MB heap that
    is unmapped when it empties).

    Call it once, early, before threads start (the entry points do). Returns True when the
    settings are in force: False off Linux/glibc, or when the environment sets malloc itself.
    Idempotent: later calls return the first call's answer.
    """
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _USER_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc: musl's mallopt sets nothing
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_ARENA_MAX, 1))
    return all(mallopt(param, value) == 1 for param, value in settings)
