"""Make until good: each chosen line generated again, one line at a time, until a take of it passes
its checks or it has had its tries; the line then keeps its best checked take. Cancelling (Esc)
stops at once and keeps every take made so far.

It drives the studio's own generation and waits for the background checks between tries, so a
try is an ordinary generation of one line: its progress, its playing and its takes as usual.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from app.generation import GenerationSession
from app.take_checking import TakeChecking
from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of
from core.studio.take_checking import best_take_for
from core.take_checks.verdicts import Verdict


class MakeUntilGood(QObject):
    said = Signal(str)  # progress and the outcome, for the status bar
    finished = Signal()

    def __init__(self, generate: Callable[[list[str]], bool], generation: GenerationSession,
                 checking: TakeChecking, dialogue: Callable[[], Dialogue], parent: QObject | None = None):
        super().__init__(parent)
        self._generate, self._checking, self._dialogue = generate, checking, dialogue
        self._todo: list[str] = []
        self._tries: dict[str, int] = {}
        self._passed: list[str] = []
        self._not_passed: list[str] = []
        self._most = 3
        self._state = "idle"  # "generating", "checking" or "idle"
        generation.finished.connect(self._generated)
        checking.idle.connect(self._checked)

    @property
    def is_running(self) -> bool:
        return self._state != "idle"

    def start(self, line_ids: list[str], most: int) -> None:
        """Make ``line_ids`` until good, up to ``most`` generations each."""
        self._todo, self._tries, self._most = list(line_ids), {}, most
        self._passed, self._not_passed = [], []
        self._state = "checking"
        self._next()

    def cancel(self) -> None:
        """Stop after the generation running now (which the studio's own cancel stops)."""
        if self.is_running:
            self._todo = []
            if self._state == "checking":
                self._end("Make until good cancelled.")

    def _next(self) -> None:
        if not self._todo:
            self._end()
            return
        line_id = self._todo[0]
        tries = self._tries.get(line_id, 0) + 1
        self._tries[line_id] = tries
        row = self._row(line_id)
        self.said.emit(f"Make until good: line {row}, take {tries} of up to {self._most}…")
        self._state = "generating"
        if not self._generate([line_id]):
            self._end(f"Make until good stopped: line {row} could not be generated.")

    def _generated(self, cancelled: bool) -> None:
        if self._state != "generating":
            return  # a generation of the person's own
        if cancelled or not self._todo:
            self._end("Make until good cancelled; the takes made are kept.")
            return
        self._state = "checking"
        if self._checking.settled:
            self._judge()
        # else: the checks' idle signal judges once they are in

    def _checked(self) -> None:
        if self._state == "checking" and self._todo:
            self._judge()

    def _judge(self) -> None:
        dialogue = self._dialogue()
        line_id = self._todo[0]
        if line_id not in {line.id for line in dialogue.lines}:
            self._todo.pop(0)  # deleted meanwhile
            self._next()
            return
        best = best_take_for(dialogue, dialogue.line(line_id))
        passed = best is not None and best[1].verdict is Verdict.GOOD
        if passed or self._tries[line_id] >= self._most:
            if best is not None and dialogue.kept_takes.get(line_id) != best[0]:
                dialogue.keep_takes({line_id: best[0]}, "Keep the best take")
            (self._passed if passed else self._not_passed).append(line_id)
            self._todo.pop(0)
        self._next()

    def _end(self, message: str | None = None) -> None:
        self._state = "idle"
        self.said.emit(message or self._outcome())
        self.finished.emit()

    def _outcome(self) -> str:
        dialogue = self._dialogue()
        said = []
        if self._passed:
            said.append(f"{line_numbers(rows_of(dialogue, self._passed))} passed")
        if self._not_passed:
            said.append(f"{line_numbers(rows_of(dialogue, self._not_passed))} kept the best of "
                        f"{self._most} takes, still flagged")
        return "Make until good: " + ("; ".join(said) if said else "nothing to make") + "."

    def _row(self, line_id: str) -> int:
        return self._dialogue().index_of(line_id) + 1
