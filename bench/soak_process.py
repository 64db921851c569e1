"""What a server keeps on disk: the size of its data folder and of its database (the process
itself is read by ``bench.drift.read_process``)."""

from __future__ import annotations

import os
from pathlib import Path


def folder_mb(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:  # removed meanwhile (an expired result)
                pass
    return total / 2**20


def database_mb(data_dir: Path) -> float:
    """The task store's SQLite file with its write-ahead log."""
    return sum(path.stat().st_size for path in data_dir.glob("tasks.sqlite3*") if path.exists()) / 2**20
