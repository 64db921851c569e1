"""The dialogue as it will be exported, to hear and see in the window: each line's kept audio
laid end to end exactly as ``core.studio.exporting`` assembles the file, with where each line begins and
the words of each line at their places in it, to follow along while it plays.

Assembling only joins arrays, but a long dialogue makes a long array and a long envelope, so the
last assembly is kept until another take or another line order would change it (editing a line's
text changes neither).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.audio.envelope import Envelope
from core.document.dialogue import Dialogue
from core.speech_timeline import SpeechTimeline
from core.studio.exporting import assembled, line_starts, placed_lines, segments

DIALOGUE = "dialogue"  # the waveform's and the player's key for it, beside the takes' ids


@dataclass(frozen=True)
class HeardDialogue:
    samples: np.ndarray
    sample_rate: int
    envelope: Envelope
    line_starts: list[tuple[str, float]]  # (line id, seconds into the samples)
    speech: SpeechTimeline  # the lines and words heard, on the samples' clock


class DialogueAudio:
    """The assembly of a dialogue's kept audio, made again only when it would differ."""

    def __init__(self):
        self._last: tuple[tuple, HeardDialogue] | None = None

    def of(self, dialogue: Dialogue) -> HeardDialogue | None:
        """None while no line has audio."""
        pieces = segments(dialogue)
        if not pieces:
            return None
        key = tuple((piece.take.id, tuple(line.id for line in piece.lines), piece.start_s, piece.end_s)
                    for piece in pieces)
        if self._last is None or self._last[0] != key:
            samples, rate = assembled(pieces), pieces[0].take.audio.sample_rate
            speech = SpeechTimeline.of_placed_lines((piece.take, line.id, shift)
                                                    for piece, line, shift in placed_lines(pieces))
            self._last = (key, HeardDialogue(samples, rate, Envelope.of(samples, rate), line_starts(pieces), speech))
        return self._last[1]
