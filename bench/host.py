"""The machine a figure was measured on, as every benchmark says it (light: no torch)."""

from __future__ import annotations

import platform
from pathlib import Path


def processor_name() -> str:
    """The processor's model name from /proc/cpuinfo, else what Python knows of it."""
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or platform.machine() or "unknown processor"
