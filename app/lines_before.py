"""The lines spoken just before the selected ones, from their kept takes → the context the runtime
continues from, so regenerated lines keep the voices and the flow of the conversation.

Picking the lines is quick and happens when the generation starts (the document may change
afterwards); reading their audio and encoding it happens on the generation's worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.take_assembly import spoken_words
from core.audio.processing import resample
from core.dia2.generator import REPLAY_SECONDS
from core.dia2.prefix import SpokenContext
from core.dia2.transcript_alignment import TimedWord
from core.dialogue import (
    AudioClip,
    Dialogue,
    DialogueLine,
    LineSpan,
    LineStatus,
    build_script,
)


@dataclass(frozen=True)
class HeardLine:
    """A line as its kept take speaks it: where in the take's audio, and its timed words."""

    line: DialogueLine
    audio: AudioClip
    span: LineSpan
    words: tuple[TimedWord, ...]  # in seconds from the take's start


def lines_before(dialogue: Dialogue, line_id: str, max_seconds: float = REPLAY_SECONDS) -> tuple[HeardLine, ...]:
    """The lines right before ``line_id`` whose takes speak them as they are written now, in
    dialogue order: back to the nearest line without such a take, and no more than ``max_seconds``
    of them (the nearest line always, however long: the runtime cuts it to what fits)."""
    heard: list[HeardLine] = []
    seconds = 0.0
    for line in reversed(dialogue.lines[:dialogue.index_of(line_id)]):
        if not line.spoken_text:
            continue  # an empty line is not in any take, nor in the script
        item = _heard(dialogue, line)
        if item is None:
            break
        length = item.span.end_s - item.span.start_s
        if heard and seconds + length > max_seconds:
            break
        heard.insert(0, item)
        seconds += length
    return tuple(heard)


def _heard(dialogue: Dialogue, line: DialogueLine) -> HeardLine | None:
    if dialogue.status(line.id) is not LineStatus.GENERATED:
        return None
    take = dialogue.take_for(line.id)
    span = take.line_times.get(line.id)
    if span is None:
        return None
    count = len(spoken_words(line))
    # The line's words are the last ones in its span (kept voice clips' words come before line 1's).
    words = tuple(word for word in take.words if span.start_s <= word.start_s < span.end_s)
    words = words[len(words) - count:] if count else ()
    if len(words) != count:
        return None
    return HeardLine(take.source_line(line.id), take.audio, span, words)


def spoken_context(runtime, heard: Sequence[HeardLine]) -> SpokenContext | None:
    """The heard lines' audio, one after the other, Mimi-encoded, with their words and when each
    starts. Reads files and runs the codec: call it on a worker thread."""
    if not heard:
        return None
    pieces: list[np.ndarray] = []
    starts: list[float] = []
    at = 0.0
    for item in heard:
        rate = item.audio.sample_rate
        piece = item.audio.samples()[round(item.span.start_s * rate):round(item.span.end_s * rate)]
        pieces.append(resample(piece, rate, runtime.sample_rate))
        starts += [at + word.start_s - item.span.start_s for word in item.words]
        at += len(pieces[-1]) / runtime.sample_rate
    audio = np.concatenate(pieces)
    if not len(audio):
        return None
    codes = runtime.encode_voice(audio)
    return SpokenContext(codes, build_script(item.line for item in heard), tuple(starts))
