"""Error types shared by every part of core.

Each area defines its own subclasses (``InvalidExportSettings``, ``CheckpointMismatch``, ...);
they all derive from :class:`DiaStudioError` so a caller (the GUI, the CLI) can catch one type
and show its message, which is always written for the person using the app.
"""


class DiaStudioError(Exception):
    """Base of every error core raises on purpose; the message is meant for the user."""


class InvalidParameter(DiaStudioError, ValueError):
    """A request field is out of its allowed range or has the wrong type."""

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {value!r} is not allowed: {allowed}.")


class Cancelled(DiaStudioError):
    """A long operation was cancelled by its caller."""


def describe_error(error: BaseException, failed: str = "") -> str:
    """What to tell the person about ``error``: a DiaStudioError's own message (written for them),
    otherwise the exception's type and text after ``failed`` ("Deleting Dia2 1B failed"), as an
    errno text alone says nothing of what was being done."""
    if isinstance(error, DiaStudioError):
        return str(error)
    reason = f"{type(error).__name__}: {error}"
    return f"{failed}: {reason}" if failed else reason
