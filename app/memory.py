"""How much memory the studio uses, for the status bar; None where the system does not say."""

from __future__ import annotations

import os
from pathlib import Path

_STATM = Path("/proc/self/statm")


def process_bytes() -> int | None:
    """Resident memory of this process (Linux); elsewhere None rather than a misleading peak."""
    try:
        resident_pages = int(_STATM.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def gpu_bytes(device) -> int:
    import torch

    return torch.cuda.memory_allocated(device)
