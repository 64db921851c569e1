"""A saved project rendered without the window: its lines that need a take generated on an engine,
as the window generates selected lines (``core.studio.dialogue_generation``). Shared by
``dia-studio render --project`` and the batch's folder of projects."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.dia2.events import TakeResult
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
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
        say(f"generating {line_numbers(dialogue, run)}" + (f" ({number + 1} of {len(runs)})" if len(runs) > 1 else ""))
        for event in generation.events(engine, cancel):
            on_event(event)
            if isinstance(event, TakeResult):
                for notice in generation.add_result(event)[0]:
                    say(f"  note: {notice}")
        if cancel.is_set():
            raise Cancelled("cancelled")
        unspoken = [line_id for line_id in run if dialogue.status(line_id) is not LineStatus.GENERATED]
        if unspoken:
            raise LinesLeftOut(f"the new take does not speak {line_numbers(dialogue, unspoken)} in full (the "
                               "model left words out): nothing was written")


def line_numbers(dialogue: Dialogue, line_ids: list[str]) -> str:
    """ "line 3", "lines 3–5", or "lines 2, 4 and 6", as the person counts them."""
    numbers = [dialogue.index_of(line_id) + 1 for line_id in line_ids]
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"lines {numbers[0]}–{numbers[-1]}"
    return f"lines {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"
