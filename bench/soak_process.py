"""A server process's figures as Linux shows them in /proc (no psutil): resident memory, threads,
open files and sockets, processor time; and the size of its data folder and database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessFigures:
    rss_mb: float
    threads: int
    open_files: int  # every descriptor, sockets included (what lsof lists)
    sockets: int
    cpu_s: float  # user and system time since the process started


def read_process(pid: int) -> ProcessFigures:
    """Raises OSError once the process has exited."""
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        status[name] = value.strip()
    if "VmRSS" not in status:  # a zombie: exited, not yet reaped
        raise ProcessLookupError(f"process {pid} has exited")
    descriptors = 0
    sockets = 0
    for entry in os.scandir(f"/proc/{pid}/fd"):
        descriptors += 1
        try:
            sockets += os.readlink(entry.path).startswith("socket:")
        except OSError:  # closed between the listing and the look
            pass
    # /proc/PID/stat: the name in parentheses may hold spaces; utime and stime are fields 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return ProcessFigures(rss_mb=int(status["VmRSS"].split()[0]) / 1024, threads=int(status["Threads"]),
                          open_files=descriptors, sockets=sockets, cpu_s=cpu_s)


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
