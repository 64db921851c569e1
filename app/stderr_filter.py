"""Keeps triton's exit noise out of the terminal. triton (installed with torch's CUDA
builds, imported by transformers) reports nanobind "leaks" as the interpreter shuts down, after
every run that loaded a model: a reference count bug in triton's own bindings (fixed upstream in
later triton releases), nothing of ours and nothing a user can act on. The studio cannot free
triton's objects for it, so those lines, and only those, are dropped from this process's stderr,
as tests/run.sh drops them from the tests'."""

from __future__ import annotations

import os
import subprocess
import sys

LEAK_REPORT = r"^(nanobind: | - leaked | - \.\.\. skipped remainder|See https://nanobind)"

# The filter: a process of its own, since the reports come after this one's threads have stopped.
# It outlives Ctrl+C (which the studio answers on stderr) and ends when the studio's stderr closes.
_FILTER = rf"""
import re, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
report = re.compile(rb"{LEAK_REPORT}")
for line in sys.stdin.buffer:
    if not report.match(line):
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
"""


def drop_leak_reports() -> None:
    """From now on this process's stderr goes through the filter (left as it is if that fails)."""
    if sys.stderr is None:  # no stderr at all (a windowed launcher): nothing to keep clean
        return
    sys.stderr.flush()
    try:
        terminal = os.dup(2)
    except OSError:
        return
    try:
        filter_process = subprocess.Popen([sys.executable, "-c", _FILTER], stdin=subprocess.PIPE,
                                          stdout=terminal, stderr=terminal)
    except OSError:
        return
    finally:
        os.close(terminal)
    os.dup2(filter_process.stdin.fileno(), 2)
    filter_process.stdin.close()  # fd 2 is now the only way in: the filter ends when it closes
