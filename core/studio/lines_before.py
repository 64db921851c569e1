"""The lines spoken just before the selected ones, from their kept takes → the context the model
continues from, so regenerated lines keep the voices and the flow of the conversation.

Their codes are the ones their takes were decoded from (exact); for takes that have none (saved
before codes were kept) their audio is encoded again. Their script is what the model read (the
lines respelled by the lexicon, as their takes read them), with a start for each word it read. Picking the lines is quick and happens when
the generation starts (the document may change afterwards); reading their audio and encoding it
happens on the generation's worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from core.audio.processing import resample
from core.dia2.generator import REPLAY_SECONDS
from core.dia2.prefix import SpokenContext
from core.dia2.script import spoken_words
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.script_text import build_script
from core.document.takes import LineSpan
from core.lexicon.respelling import Respelling
from core.studio.lexicon_use import spoken_starts

if TYPE_CHECKING:
    from core.engine.engine import Engine


@dataclass(frozen=True)
class HeardLine:
    """A line as its kept take speaks it: where in the take's audio, its timed words (as
    written), and how the model read it."""

    line: DialogueLine
    audio: AudioClip
    span: LineSpan
    words: tuple[TimedWord, ...]  # in seconds from the take's start
    take_codes: np.ndarray | None  # all the take's codes, if it keeps them
    respelling: Respelling  # the line's text as the model read it

    @property
    def line_read(self) -> DialogueLine:
        """The line as the model read it (respelled)."""
        return replace(self.line, text=self.respelling.spoken)

    def spoken_starts(self) -> list[float]:
        """When each word the model read starts, in seconds from the line's start."""
        written = [word.start_s - self.span.start_s for word in self.words]
        return spoken_starts(self.respelling, written, self.span.end_s - self.span.start_s)

    def samples(self) -> np.ndarray:
        return self.audio.between(self.span.start_s, self.span.end_s)

    @property
    def codes_per_second(self) -> float:
        return self.take_codes.shape[1] / self.audio.duration_s

    def codes(self) -> np.ndarray:
        """The take's codes of the line's frames (the take must keep codes)."""
        per_second = self.codes_per_second
        return self.take_codes[:, round(self.span.start_s * per_second):round(self.span.end_s * per_second)]


def lines_before(dialogue: Dialogue, line_id: str, max_seconds: float = REPLAY_SECONDS) -> tuple[HeardLine, ...]:
    """The lines right before ``line_id`` whose takes speak them as they are written now, in
    dialogue order: back to the nearest line without such a take, and no more than ``max_seconds``
    of them (the nearest line always, however long: the Dia2 runtime cuts it to what fits)."""
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
    count = len(spoken_words(line.spoken_text))
    # The line's words are the last ones in its span (kept voice clips' words come before line 1's).
    words = tuple(word for word in take.words if span.start_s <= word.start_s < span.end_s)
    words = words[len(words) - count:] if count else ()
    if len(words) != count:
        return None
    codes = take.codes if take.codes is not None and take.codes.size else None
    # The take speaks the line as written, so the model read it as the lexicon in use reads it.
    return HeardLine(take.source_line(line.id), take.audio, span, words, codes, dialogue.respelling(line))


def spoken_context(engine: Engine, heard: Sequence[HeardLine]) -> SpokenContext | None:
    """The heard lines one after the other: their codes (their takes' own, or else their audio
    encoded again on ``engine``), their script, and when each word starts. May read files and run the codec:
    call it on a worker thread."""
    if not heard:
        return None
    if all(item.take_codes is not None for item in heard):
        line_codes = [item.codes() for item in heard]
        codes = torch.from_numpy(np.concatenate(line_codes, axis=1).astype(np.int64))
        lengths = [frames.shape[1] / item.codes_per_second for frames, item in zip(line_codes, heard)]
    else:
        line_audio = [resample(item.samples(), item.audio.sample_rate, engine.sample_rate) for item in heard]
        audio = np.concatenate(line_audio)
        codes = engine.encode_voice(audio) if len(audio) else None
        lengths = [len(samples) / engine.sample_rate for samples in line_audio]
    if codes is None or codes.shape[1] == 0:
        return None
    starts, at = [], 0.0
    for item, length in zip(heard, lengths):
        starts += [at + start for start in item.spoken_starts()]
        at += length
    return SpokenContext(codes, build_script(item.line_read for item in heard), tuple(starts))
