"""The engine in a process of its own on this machine: the model runs in a child process (started
with 'spawn', so it shares nothing with the studio but the files), which runs an
``InProcessEngine`` and streams what it makes back over a pipe.

Whatever the model does (runs out of memory, faults in a driver, is killed by the system), the
studio's process lives on: a generation cut short yields the take as far as it was streamed
(incomplete, with a notice saying what happened), then raises ``EngineFailed`` naming the exit
code or the signal; the next call starts a fresh child and loads the same model again.

Between the studio and its own child, messages are pickled: both ends are this program, on this
machine, started by this program. Nothing from another machine is ever unpickled (the remote
engine speaks the server's JSON).

One module per end of the pipe: ``engine`` (the studio's end), ``child`` (the model's process),
``child_ended`` (how the child's death is said) and ``pickled_errors`` (errors across the pipe).
"""

from core.engine.own_process.engine import OwnProcessEngine

__all__ = ["OwnProcessEngine"]
