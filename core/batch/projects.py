"""A saved project rendered without the window: its lines that need a take generated on an engine,
as the window generates selected lines (``core.studio.dialogue_generation``). Shared by
``dia-studio render --project`` and the batch's folder of projects."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.dia2.events import TakeResult
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of
from core.errors import Cancelled, DiaStudioError
from core.studio.dialogue_generation import DialogueGeneration


class LinesLeftOut(DiaStudioError):
    """A new take does not speak all of its lines (the model left words out)."""


def generate_runs(engine, dialogue: Dialogue, runs: list[list[str]], cancel: threading.Event,
                  say: Callable[[str], None], on_event: Callable[[object], None] = lambda event: None) -> None:
    """Generate each run of lines in turn on ``engine`` (anything with ``generate``, ``encode_voice``
    and ``sample_rate``) and put the takes into the document. ``on_event`` sees every event (progress
    on the command line); raises Cancelled once ``cancel`` is set, LinesLeftOut for a take that
    does not speak its lines in full."""
    for number, run in enumerate(runs):
        generation = DialogueGeneration(dialogue, run)
        of_runs = f" ({number + 1} of {len(runs)})" if len(runs) > 1 else ""
        say(f"generating {line_numbers(rows_of(dialogue, run))}{of_runs}")
        for event in generation.events(engine, cancel):
            on_event(event)
            if isinstance(event, TakeResult):
                for notice in generation.add_result(event)[0]:
                    say(f"  note: {notice}")
        if cancel.is_set():
            raise Cancelled("cancelled")
        unspoken = [line_id for line_id in run if dialogue.status(line_id) is not LineStatus.GENERATED]
        if unspoken:
            raise LinesLeftOut(f"the new take does not speak {line_numbers(rows_of(dialogue, unspoken))} in full "
                               "(the model left words out): nothing was written")
