"""A plain undo stack: the document pushes commands, the GUI binds Ctrl+Z / Ctrl+Shift+Z to it.

Shaped like Qt's QUndoStack (push runs the command; a command may absorb the next one, so
typing in one line is one undo step) but without Qt, so ``core`` stays importable anywhere.
The stack moves before it runs a command (push, undo, redo), so whoever the command notifies
already sees the new ``can_undo``/``undo_text``.
"""

from __future__ import annotations

from typing import Protocol

UNDO_LIMIT = 500


class Command(Protocol):
    """One undoable edit. ``text`` names it for the Edit menu ("Undo Edit text")."""

    text: str

    def redo(self) -> None: ...

    def undo(self) -> None: ...

    def merge(self, newer: "Command") -> bool:
        """Absorb ``newer`` (about to be applied) into this step; True when it did."""
        ...


class UndoStack:
    """Commands done so far, the ones undone above them, and where we stand between the two."""

    def __init__(self, limit: int = UNDO_LIMIT):
        self.limit = limit
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are done, commands[index:] can be redone
        self._sealed = False

    def push(self, command: Command) -> None:
        """Record ``command`` and run it, dropping whatever could have been redone.

        When running it fails before it changed anything, it is not recorded (unless a step
        already absorbed it)."""
        del self._commands[self._index:]
        if self._commands and not self._sealed and self._commands[-1].merge(command):
            command.redo()
            return
        self._sealed = False
        self._commands.append(command)
        self._index = len(self._commands)
        try:
            command.redo()
        except BaseException:
            if self._commands and self._commands[-1] is command and self._index == len(self._commands):
                self._commands.pop()
                self._index -= 1
            raise
        if len(self._commands) > self.limit:
            del self._commands[0]
            self._index -= 1

    def undo(self) -> None:
        if self.can_undo:
            self._index -= 1
            self._sealed = True
            self._commands[self._index].undo()

    def redo(self) -> None:
        if self.can_redo:
            self._index += 1
            self._sealed = True
            self._commands[self._index - 1].redo()

    def seal(self) -> None:
        """Start a new undo step at the next push, e.g. when the text cursor leaves a line."""
        self._sealed = True

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo else ""
