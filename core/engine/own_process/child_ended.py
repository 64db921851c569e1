"""How the model's process ended, said for the person reading the message: the parent notices
the death (its pipe closed, its process sentinel ready) and names the exit code or the signal."""

from __future__ import annotations

import signal

from core.engine.engine import EngineFailed

# What a signal that ended the child most often means.
_SIGNAL_CAUSES = {
    "SIGKILL": "was killed by SIGKILL (often: out of memory)",
    "SIGSEGV": "crashed with SIGSEGV (a fault in native code, such as a GPU driver)",
    "SIGBUS": "crashed with SIGBUS (a fault in native code, such as a GPU driver)",
    "SIGABRT": "was aborted with SIGABRT (a native library gave up)",
    "SIGTERM": "was stopped with SIGTERM",
}


class ChildEnded(Exception):
    """The child died during a call (internal to the engine: callers raise ``failure()``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def failure(self) -> EngineFailed:
        return EngineFailed(f"The model's process {self.reason}. It starts again, with the same model, "
                            "at the next generation.")

    def notice(self) -> str:
        """What the take it cut short says of it."""
        return f"Cut short: the model's process {self.reason}."


def ending(exitcode: int | None) -> str:
    """How a child ended, from its exit code (negative: the signal that ended it)."""
    if exitcode is None:
        return "stopped answering"
    if exitcode >= 0:
        return f"exited with code {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        return f"was ended by signal {-exitcode}"
    return _SIGNAL_CAUSES.get(name, f"was ended by {name}")
