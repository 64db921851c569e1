"""An error raised in the model's process, raised again in the studio's as it was: its type,
arguments and attributes cross the pipe, with the child's traceback as a note."""

from __future__ import annotations

import importlib
import pickle
import traceback

from core.engine.engine import EngineFailed


def packed(error: BaseException) -> tuple:
    """An exception as its type's name, arguments and attributes: rebuilt in the parent without
    calling its ``__init__`` (whose signature its arguments need not fit, e.g. InvalidParameter)."""
    kind = type(error)
    args = error.args if _picklable(error.args) else (str(error),)
    state = {name: value for name, value in vars(error).items() if _picklable(value)}
    return kind.__module__, kind.__qualname__, args, state, "".join(traceback.format_exception(error))


def unpacked(module: str, qualname: str, args: tuple, state: dict, child_traceback: str) -> BaseException:
    try:
        kind = importlib.import_module(module)
        for part in qualname.split("."):
            kind = getattr(kind, part)
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            raise TypeError(qualname)
        error = kind.__new__(kind, *args)
        Exception.__init__(error, *args)
        error.__dict__.update(state)
    except Exception:  # a type the studio's process cannot import or rebuild: the words still arrive
        error = EngineFailed(f"The model's process failed: {qualname}: {', '.join(map(str, args))}")
    error.add_note(f"Raised in the model's process:\n{child_traceback}")
    return error


def _picklable(value) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True
