"""How the model's processor threads wait for each other, set before torch starts.

OpenMP's threads spin while they wait for their team at each product's end. That is a little
faster on an idle machine, and ruinous on a busy one: with one of two cores busy elsewhere (a
browser, the studio's own window, another program), two threads made a 1B frame 6.7x slower than
on the idle machine, 4x slower than one thread (`bench/bench_cpu_precision.py`, see
docs/performance.md#threads). Waiting passively costs some 10 % when idle and keeps a busy
machine's frame at one thread's speed.

OpenMP reads its settings once, as the library loads (with torch): this runs first thing, before
torch is imported (``app.main``), and the model's own process inherits the environment.
"""

from __future__ import annotations

import os

# Any of these set by the person is theirs: libgomp's (Linux), LLVM's and Intel's (macOS, Windows).
THEIR_OWN = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def wait_passively(environ: dict | os._Environ = os.environ) -> bool:
    """Ask OpenMP's threads to sleep while they wait; False where the person chose a policy."""
    if any(name in environ for name in THEIR_OWN):
        return False
    environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True
