"""A take: one generated rendition of some lines, with exactly how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping, NamedTuple

import numpy as np

from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip, check_times, timed_words
from core.document.errors import DialogueError
from core.document.ids import new_id
from core.document.lines import DialogueLine
from core.document.script_text import build_script
from core.params import GenerationParams


class LineSpan(NamedTuple):
    """Where a line is spoken within a take, in seconds from the take's start."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class Take:
    """One generated rendition of some lines: its audio, and exactly how it was made."""

    params: GenerationParams  # as used, with the concrete seed
    audio: AudioClip
    source_lines: tuple[DialogueLine, ...]  # the lines as they were when this take was made
    words: tuple[TimedWord, ...] = ()
    line_times: Mapping[str, LineSpan] = field(default_factory=dict)  # line id -> span
    id: str = field(default_factory=new_id)
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # The Mimi codes [codebooks, frames] the audio was decoded from, so later lines can carry on
    # from it exactly; None for takes saved before codes were kept.
    codes: np.ndarray | None = field(default=None, compare=False, repr=False)
    # The model that made it, as loaded: a Hub id or a local folder's path (params.model names only
    # the model asked for); None for takes saved before it was kept.
    model: str | None = None
    # Line id -> what the model read for that line, where a lexicon respelled it ("Hello Win." for
    # "Hello Nguyen."); a line not here was read as written.
    respelled: Mapping[str, str] = field(default_factory=dict)
    # source_lines by id: the status of every line asks every take, so look-ups must be quick
    _source_by_id: Mapping[str, DialogueLine] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.params.seed is None:
            raise DialogueError("A take records the seed it was made with; its parameters have none.")
        object.__setattr__(self, "source_lines", tuple(self.source_lines))
        object.__setattr__(self, "_source_by_id", {line.id: line for line in self.source_lines})
        object.__setattr__(self, "words", timed_words(self.words))
        spans = {}
        for line_id, span in dict(self.line_times).items():
            if line_id not in self._source_by_id:
                raise DialogueError(f"The take has times for line {line_id!r}, which it was not made from.")
            try:
                start_s, end_s = span
            except (TypeError, ValueError):
                raise DialogueError(f"Line {line_id!r} in the take: expected (start_s, end_s), "
                                    f"found {span!r}.") from None
            check_times(start_s, end_s, f"Line {line_id!r} in the take")
            spans[line_id] = LineSpan(float(start_s), float(end_s))
        object.__setattr__(self, "line_times", spans)
        respelled = dict(self.respelled)
        for line_id, text in respelled.items():
            if line_id not in self._source_by_id:
                raise DialogueError(f"The take has a respelling of line {line_id!r}, which it was not made from.")
            if not isinstance(text, str) or not text.strip():
                raise DialogueError(f"What the model read for line {line_id!r} must be text, not {text!r}.")
        object.__setattr__(self, "respelled", respelled)
        if self.created.tzinfo is None:
            raise DialogueError("A take's creation time must carry its time zone.")
        if self.codes is not None:
            object.__setattr__(self, "codes", _audio_codes(self.codes))

    @property
    def seed(self) -> int:
        return self.params.seed

    @property
    def script(self) -> str:
        return build_script(self.source_lines)

    @property
    def duration_s(self) -> float:
        return self.audio.duration_s

    def source_line(self, line_id: str) -> DialogueLine | None:
        """The line ``line_id`` as it was when this take was made; None if the take lacks it."""
        return self._source_by_id.get(line_id)

    def text_read(self, line_id: str) -> str | None:
        """What the model read for the line: its text respelled by the lexicon the take was made
        with, or as written (None if the take lacks the line)."""
        line = self._source_by_id.get(line_id)
        return None if line is None else self.respelled.get(line_id, line.spoken_text)


def _audio_codes(codes: object) -> np.ndarray:
    """A private, read-only int16 copy of a take's codes, checked to be code indices."""
    array = np.asarray(codes)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise DialogueError(f"A take's codes are whole numbers in [codebooks, frames], not an array of "
                            f"{array.dtype} with shape {array.shape}.")
    if array.size and not 0 <= array.min() <= array.max() <= np.iinfo(np.int16).max:
        raise DialogueError(f"A take's codes are indices from 0 to {np.iinfo(np.int16).max}; these run from "
                            f"{array.min()} to {array.max()}.")
    array = array.astype(np.int16)  # astype copies
    array.flags.writeable = False
    return array
