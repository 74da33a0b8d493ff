"""The server process's allocator, set for decodes that run in batches on worker threads.

glibc gives each thread an arena of its own (up to 8 per core), and after a large block is
freed it raises its mmap threshold, so that blocks of that size come from an arena from then
on and stay resident when freed: the decoders' batch buffers (tens of MB each) piled up that
way. Two arenas and a fixed 1 MB threshold (large buffers are mapped and returned at once)
brought the server's peak RSS at 12 long-form streams from 764 to 593 MB
(``bench/stream_bench.py --corpus long --streams 12``). ``MALLOC_ARENA_MAX`` /
``MALLOC_MMAP_THRESHOLD_`` in the environment still win.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 1 << 20


def tune_malloc() -> bool:
    """Set glibc's arenas and mmap threshold (before threads start); False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # musl
        return False
    ok = True
    if "MALLOC_ARENA_MAX" not in os.environ:
        ok &= bool(mallopt(_M_ARENA_MAX, ARENAS))
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        ok &= bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return ok
