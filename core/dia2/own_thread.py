"""Model work on a thread of its own that ends with it, for work a caller may run on any thread.

OpenMP (torch's processor kernels; numba's parallel loops in Whisper's word timing) keeps a team
of worker threads for each thread that ran parallel work, for as long as that thread lives; and
numba's first parallel loop sets its thread's OpenMP thread count to every core. Left on a
long-lived thread (asyncio's pooled threads, a server's task runner), both outlast the work: the
runner went on with every core instead of ``--threads``, and once the process holds more OpenMP
threads than the machine has cores, libgomp stops letting idle workers spin, so every small
parallel region of a frame waits for its workers to be woken (2.5x per region on 2 cores; a
server's tasks 1.8-3x slower after one live take with a voice). A thread that ends takes its
team, and its thread count, with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def on_own_thread(work: Callable[..., T], *args, name: str = "model-work") -> T:
    """``work(*args)`` on a new thread, waited for: its result, or its exception raised here."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work(*args)
        except BaseException as error:  # raised again on the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
