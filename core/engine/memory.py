"""How much memory a model's process holds, for the status bar (None where the system does not
say), and the C library's allocator kept from growing with the threads."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path


def process_bytes(pid: int | str = "self") -> int | None:
    """Resident memory of a process of this machine, this one by default (Linux); elsewhere None
    rather than a misleading peak."""
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def device_bytes(device) -> int | None:
    """Allocated on ``device`` (a torch device) by this process; None on a processor, whose
    memory ``process_bytes`` already counts, and for a cluster's replicas (each has its own)."""
    if getattr(device, "type", None) != "cuda":
        return None
    import torch

    return torch.cuda.memory_allocated(device)


M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Keep glibc to ``arenas`` malloc arenas. By default each thread that allocates gets one
    (up to eight a core), and each keeps what it once held: the server's threads (requests,
    voices, live takes, deliveries) and the studio's (generations, previews, checks, exports)
    grew their memory for the best part of an hour (bench/soak.py, bench/soak_studio.py). Called
    first thing by every face (``app.main``) and the model's own process, before threads start.
    False where the user set MALLOC_ARENA_MAX, or the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # no such C library call here (macOS, Windows)
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
