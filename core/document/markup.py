"""What an author puts into a line besides words: non-verbal cues and pauses."""

from __future__ import annotations

import math

from core.dia2.script import MAX_BREAK_SECONDS
from core.document.errors import DialogueError


# Non-verbal cues Dia2 knows, in the order the cue palette shows them.
NONVERBAL_CUES = (
    "(laughs)", "(chuckle)", "(sighs)", "(gasps)", "(coughs)", "(clears throat)", "(sniffs)",
    "(groans)", "(inhales)", "(exhales)", "(mumbles)", "(humming)", "(whistles)", "(singing)",
    "(screams)", "(applause)", "(beep)",
)


def pause_markup(seconds: float) -> str:
    """The script markup for a pause: ``pause_markup(1.5)`` is ``<break time="1.5s"/>``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise DialogueError(f"A pause must be a number of seconds, not {seconds!r}.")
    rounded = round(seconds, 3)
    if not 0 < rounded <= MAX_BREAK_SECONDS:
        raise DialogueError(f"A pause lasts more than 0 and at most {MAX_BREAK_SECONDS:g} seconds, "
                            f"not {seconds!r}.")
    return f'<break time="{rounded:g}s"/>'


def insert_markup(text: str, position: int, markup: str) -> tuple[str, int]:
    """``text`` with a cue or pause put in at ``position``, with a space on each side where it would
    touch a word (none before punctuation); returns the new text and the position after what went in."""
    before, after = text[:position], text[position:]
    lead = " " if before and not before[-1].isspace() else ""
    trail = " " if after and not after[0].isspace() and after[0] not in ".,;:!?…)" else ""
    inserted = lead + markup + trail
    return before + inserted + after, position + len(inserted)
