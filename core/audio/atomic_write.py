"""Replace a file (or several that belong together) all at once, or not at all; and the durable
writes that build on it.

The new content is written to a temporary file in the same folder (so the final rename stays on
one file system), flushed to the disk, then renamed over the target with ``os.replace``. A crash,
an encoder error or a full disk leaves the old file (or no file) under the name, never a torn one.
Every file the studio, a batch or the server keeps is written this way (exports, projects, the
voice library, stored task results).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], None], *, sync_folder: bool = True) -> None:
    """Call ``write(temporary_path)`` to produce the content, then move it to ``path``.

    Any exception from ``write`` or from the disk propagates after the temporary file is removed.
    ``sync_folder=False`` leaves the rename's own flush to a caller that renames several files
    into one folder and flushes it once (``flush_folder``).
    """
    write_all_atomically([(path, write)], sync_folder=sync_folder)


def write_all_atomically(writes: Sequence[tuple[Path, Callable[[Path], None]]], *, sync_folder: bool = True) -> None:
    """Several files that belong together (a mix and its stems): each written as ``write_atomically``
    writes one, and renamed over its name only once every one is written and on the disk. A failure
    in any write (a full disk, an encoder error) removes every temporary file and leaves every name
    as it was. Only the renames come after, and a rename within a folder takes no room."""
    temporaries: list[Path] = []
    try:
        for path, write in writes:
            temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
            # 0o666 minus the umask, like a file the program had written directly
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            temporaries.append(temporary)
            if path.exists():
                os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
            write(temporary)
            _flush_to_disk(temporary)
        for (path, _), temporary in zip(writes, temporaries):
            os.replace(temporary, path)
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    if sync_folder:
        for folder in dict.fromkeys(path.parent for path, _ in writes):
            flush_folder(folder)


def write_bytes_atomically(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """``write_atomically`` for content already in memory, written by ``write_new_file``."""
    write_atomically(path, lambda temporary: write_new_file(temporary, data), sync_folder=sync_folder)


def temporary_files(path: Path) -> Iterator[Path]:
    """What interrupted atomic writes of ``path`` left beside it."""
    return path.parent.glob(f".{path.name}.*.part")


def write_new_file(path: Path, data: bytes) -> None:
    """Create (or truncate) ``path`` holding ``data``, on disk when this returns. A plain os.write
    loop, so that a full disk ends here as an OSError (ENOSPC): an encoder writing through a C
    callback may swallow it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        rest = memoryview(data)
        while rest:
            rest = rest[os.write(descriptor, rest):]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _flush_to_disk(path: Path) -> None:
    # opened for writing: Windows can only flush a handle it may write to
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush_folder(folder: Path) -> None:
    """Make renames into ``folder`` durable; folders cannot be opened (or need no flush) on Windows."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
