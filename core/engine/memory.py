"""How much memory a model's process holds, for the status bar; None where the system does not say."""

from __future__ import annotations

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
