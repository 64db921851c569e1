"""Replace a file all at once, or not at all.

The new content is written to a temporary file in the same folder (so the final rename stays on
one file system), flushed to the disk, then renamed over the target with ``os.replace``. A crash,
an encoder error or a full disk leaves the old file (or no file) under the name, never a torn one.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_path)`` to produce the content, then move it to ``path``.

    Any exception from ``write`` or from the disk propagates after the temporary file is removed.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    # 0o666 minus the umask, like a file the program had written directly
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        if path.exists():
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        write(temporary)
        _flush_to_disk(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _flush_to_disk_folder(path.parent)


def _flush_to_disk(path: Path) -> None:
    # opened for writing: Windows can only flush a handle it may write to
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_to_disk_folder(folder: Path) -> None:
    # Makes the rename itself durable; folders cannot be opened (or need no flush) on Windows.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

