"""What the document refuses, and why."""

from __future__ import annotations

from core.errors import DiaStudioError


class DialogueError(DiaStudioError, ValueError):
    """An edit or a value the document cannot accept; the message says why."""


class InvalidScript(DialogueError):
    """A script (``[S1] ... [S2] ...``) that cannot be read into lines."""
