"""A full disk at the operating system's write call: files under one folder sit on a disk with a
few bytes free; other files are written as usual. Linux (it reads /proc/self/fd)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest


class FullDisk:
    """``os.write`` for a disk holding ``folder`` with ``free`` bytes left: writes fill it, then
    fail with ENOSPC, the way a real one answers (a short write first, then the error)."""

    def __init__(self, folder: Path, free: int = 0):
        self.folder = Path(folder).resolve()
        self.free = free
        self._write = os.write

    def __call__(self, descriptor: int, data) -> int:
        if not self._on_this_disk(descriptor):
            return self._write(descriptor, data)
        if self.free == 0 and len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        count = min(len(data), self.free)
        self.free -= count
        return self._write(descriptor, memoryview(data)[:count])

    def _on_this_disk(self, descriptor: int) -> bool:
        try:
            path = Path(os.readlink(f"/proc/self/fd/{descriptor}"))
        except OSError:
            return False  # a pipe or a socket
        return path == self.folder or self.folder in path.parents


def fill_disk(monkeypatch: pytest.MonkeyPatch, folder: Path, free: int = 0) -> FullDisk:
    """From now until ``monkeypatch.undo()``, the disk holding ``folder`` has ``free`` bytes left."""
    folder.mkdir(parents=True, exist_ok=True)
    disk = FullDisk(folder, free)
    monkeypatch.setattr(os, "write", disk)
    return disk
