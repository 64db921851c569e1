"""The dialogue document: lines, speakers, takes, and every edit as one undoable step.

Plain Python, no Qt: the studio window, the command line and tests edit the same object. The
document's content is a snapshot of immutable values (lines, speaker profiles, takes); an edit
builds the next snapshot and pushes (before, after) onto the undo stack, so undo is exact and a
"modified" check is an identity test against the snapshot last saved.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from enum import Enum, Flag, auto
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, NamedTuple

import numpy as np

from core.dia2.script import (BREAK_TAG, MAX_BREAK_SECONDS, SPEAKER_TAG, SPEAKER_TAGS, TAG_LIKE,
                              UnknownSpeakerTag, check_speaker_tags)
from core.dia2.transcript_alignment import TimedWord
from core.errors import DiaStudioError
from core.params import GenerationParams
from core.undo import UndoStack


class DialogueError(DiaStudioError, ValueError):
    """An edit or a value the document cannot accept; the message says why."""


class InvalidScript(DialogueError):
    """A script (``[S1] ... [S2] ...``) that cannot be read into lines."""


def new_id() -> str:
    return uuid.uuid4().hex


class Speaker(Enum):
    S1 = "S1"
    S2 = "S2"

    @property
    def tag(self) -> str:
        """The script tag, ``[S1]`` or ``[S2]``."""
        return SPEAKER_TAGS[list(Speaker).index(self)]

    @property
    def other(self) -> Speaker:
        return Speaker.S2 if self is Speaker.S1 else Speaker.S1


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


class LineSpan(NamedTuple):
    """Where a line is spoken within a take, in seconds from the take's start."""

    start_s: float
    end_s: float


def _check_times(start_s: object, end_s: object, what: str) -> None:
    for value in (start_s, end_s):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DialogueError(f"{what}: {value!r} is not a time in seconds.")
    if not 0 <= start_s <= end_s:
        raise DialogueError(f"{what}: it starts at {start_s} s and ends at {end_s} s; "
                            "times must be ≥ 0 and the start not after the end.")


def timed_words(words: Iterable[TimedWord | Iterable]) -> tuple[TimedWord, ...]:
    """Checked :class:`TimedWord` values (a word heard in a clip, with where it starts and ends,
    in seconds from the clip's start), from timed words or ``(word, start_s, end_s)`` triples."""
    checked = []
    for number, item in enumerate(words, 1):
        if isinstance(item, TimedWord):
            item = (item.text, item.start_s, item.end_s)
        try:
            word, start_s, end_s = item
        except (TypeError, ValueError):
            raise DialogueError(f"Word {number}: expected (word, start_s, end_s), found {item!r}.") from None
        if not isinstance(word, str):
            raise DialogueError(f"Word {number}: {word!r} is not text.")
        _check_times(start_s, end_s, f"Word {number} ({word!r})")
        checked.append(TimedWord(word, float(start_s), float(end_s)))
    return tuple(checked)


class AudioClip:
    """Mono float32 audio of a take or a voice; its content never changes once made.

    It is held in memory (just generated or recorded) or read on demand from the project file
    it is stored in. Clips are equal when they have the same id, so a take reopened from disk
    equals the take that was saved.
    """

    def __init__(self, sample_rate: int, frame_count: int, load: Callable[[], np.ndarray],
                 *, clip_id: str | None = None, file: Path | None = None):
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise DialogueError(f"A sample rate must be a positive whole number of Hz, not {sample_rate!r}.")
        self.id = clip_id or new_id()
        self.sample_rate = sample_rate
        self.frame_count = frame_count
        self.file = file  # where the samples are stored; None while they only live in memory
        self._load = load

    @classmethod
    def from_samples(cls, samples: np.ndarray, sample_rate: int) -> AudioClip:
        """A clip holding a private, read-only copy of ``samples``."""
        array = np.array(samples, dtype=np.float32)
        if array.ndim != 1:
            raise DialogueError(f"Audio must be mono (one channel); got an array of shape {array.shape}.")
        array.flags.writeable = False
        return cls(sample_rate, len(array), lambda: array)

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.sample_rate

    def samples(self) -> np.ndarray:
        """The samples, mono float32 in [-1, 1]; read from the file each time when stored in one."""
        return self._load()

    def between(self, start_s: float, end_s: float, samples: np.ndarray | None = None) -> np.ndarray:
        """The samples from ``start_s`` to ``end_s``: cut from ``samples`` when the caller has
        already read them (a file is decoded each time it is read)."""
        samples = self.samples() if samples is None else samples
        return samples[round(start_s * self.sample_rate):round(end_s * self.sample_rate)]

    def keep_in_memory(self) -> None:
        """Hold the samples in memory from now on, so the file they came from may be deleted."""
        if self.file is not None:
            array = self._load()
            self._load = lambda: array
            self.file = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioClip):
            return NotImplemented
        return ((self.id, self.sample_rate, self.frame_count)
                == (other.id, other.sample_rate, other.frame_count))

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        where = f", file={str(self.file)!r}" if self.file else ""
        return f"AudioClip(id={self.id!r}, {self.duration_s:.2f} s at {self.sample_rate} Hz{where})"


@dataclass(frozen=True)
class VoiceReference:
    """A clip of the voice a speaker should sound like, stored in the project, with its transcript."""

    audio: AudioClip
    words: tuple[TimedWord, ...] = ()  # what speech recognition heard, aligning clip and text
    transcript: str = ""  # the words spoken in the clip, as corrected by the person

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", timed_words(self.words))


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class SpeakerProfile:
    """How one speaker is shown (name, colour) and sounds (an optional voice reference)."""

    name: str
    colour: str  # "#rrggbb"
    voice: VoiceReference | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise DialogueError("A speaker needs a name.")
        if not isinstance(self.colour, str) or not _COLOUR.fullmatch(self.colour):
            raise DialogueError(f"A speaker colour is written #rrggbb, not {self.colour!r}.")


DEFAULT_SPEAKERS: Mapping[Speaker, SpeakerProfile] = MappingProxyType({
    Speaker.S1: SpeakerProfile("Speaker 1", "#2f80ed"),
    Speaker.S2: SpeakerProfile("Speaker 2", "#e2673a"),
})


@dataclass(frozen=True)
class DialogueLine:
    """One line of the dialogue: who says what. ``id`` stays the same through every edit."""

    speaker: Speaker
    text: str = ""
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if not isinstance(self.speaker, Speaker):
            raise DialogueError(f"A line is spoken by S1 or S2, not {self.speaker!r}.")
        if not isinstance(self.text, str):
            raise DialogueError(f"A line's text must be text, not {self.text!r}.")
        _, turns = split_turns(self.text)
        if turns:
            raise DialogueError(f"A line cannot contain the speaker tag {turns[0][0].tag}; "
                                "start a new line for the other speaker instead.")

    @property
    def spoken_text(self) -> str:
        """The text as it goes into the script: runs of spaces and line breaks become one space."""
        return " ".join(self.text.split())

    @property
    def read_text(self) -> str:
        """The text as a person reads it (a file's title, a subtitle): its pauses left out."""
        return " ".join(BREAK_TAG.sub(" ", self.text).split())


def build_script(lines: Iterable[DialogueLine]) -> str:
    """The Dia2 script of ``lines``: ``[S1] text [S2] text ...``.

    A speaker tag is written only where the speaker changes (Dia expects the speakers to
    alternate); lines with no text are left out.
    """
    parts: list[str] = []
    current = None
    for line in lines:
        if not line.spoken_text:
            continue
        if line.speaker is not current:
            parts.append(line.speaker.tag)
            current = line.speaker
        parts.append(line.spoken_text)
    return " ".join(parts)


def split_turns(text: str) -> tuple[str, tuple[tuple[Speaker, str], ...]]:
    """The text before the first speaker tag, then each tag's speaker with the text after it
    (up to the next tag). A tag for a speaker Dia2 does not have, such as [S3], is refused."""
    try:
        check_speaker_tags(text)
    except UnknownSpeakerTag as error:
        raise InvalidScript(str(error)) from None
    pieces = SPEAKER_TAG.split(text)
    speakers = [Speaker(tag[1:-1]) for tag in SPEAKER_TAG.findall(text)]
    return pieces[0], tuple(zip(speakers, pieces[1:]))


def parse_script(script: str) -> tuple[DialogueLine, ...]:
    """Lines from a script. A tag switches the speaker; each non-blank text line is a line."""
    before_first_tag, turns = split_turns(script)
    before_first_tag = " ".join(before_first_tag.split())
    if before_first_tag:
        raise InvalidScript(f"The script must start with a speaker tag, [S1] or [S2]; "
                            f"it starts with {before_first_tag[:40]!r}.")
    lines = []
    for speaker, text in turns:
        lines.extend(DialogueLine(speaker, " ".join(row.split()))
                     for row in text.splitlines() if row.strip())
    if not lines:
        raise InvalidScript("The script has no text to speak.")
    return tuple(lines)


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
            _check_times(start_s, end_s, f"Line {line_id!r} in the take")
            spans[line_id] = LineSpan(float(start_s), float(end_s))
        object.__setattr__(self, "line_times", spans)
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


class LineStatus(Enum):
    NOT_GENERATED = "not generated"
    GENERATING = "generating"
    GENERATED = "generated"
    OUTDATED = "outdated"  # its text or speaker changed since its take was made


class Change(Flag):
    """What a change touched, passed to listeners so a view refreshes only what it shows."""

    LINES = auto()
    SPEAKERS = auto()
    PARAMS = auto()
    TAKES = auto()  # the takes or which ones are kept
    GENERATING = auto()
    SAVED = auto()  # the document was saved, or marked unsaved


@dataclass(frozen=True)
class _Content:
    """Everything an edit can change: one snapshot of the document."""

    lines: tuple[DialogueLine, ...]
    speakers: Mapping[Speaker, SpeakerProfile]
    params: GenerationParams
    takes: tuple[Take, ...]
    kept_takes: Mapping[str, str]  # line id -> the id of the take kept for it


_CHANGE_OF_FIELD = {"lines": Change.LINES, "speakers": Change.SPEAKERS, "params": Change.PARAMS,
                    "takes": Change.TAKES, "kept_takes": Change.TAKES}


class _ContentChange:
    """The undo command behind every edit: swap one snapshot for another."""

    def __init__(self, dialogue: Dialogue, description: str, before: _Content, after: _Content,
                 merge_key: object):
        self.text = description
        self._dialogue = dialogue
        self._before = before
        self._after = after
        self._merge_key = merge_key

    def redo(self) -> None:
        self._dialogue._show(self._after)

    def undo(self) -> None:
        self._dialogue._show(self._before)

    def merge(self, newer: _ContentChange) -> bool:
        if self._merge_key is None or newer._merge_key != self._merge_key or newer._before is not self._after:
            return False
        self._after = newer._after
        return True


Listener = Callable[[Change], None]


class Dialogue:
    """The document: ordered lines, two speaker profiles, the generation settings and the takes.

    Every edit method is one undo step on :attr:`undo_stack` and calls the listeners given to
    :meth:`subscribe`. Lines, profiles and takes are immutable values: read them freely.
    """

    def __init__(self, lines: Iterable[DialogueLine] = (),
                 speakers: Mapping[Speaker, SpeakerProfile] = DEFAULT_SPEAKERS,
                 params: GenerationParams | None = None, takes: Iterable[Take] = (),
                 kept_takes: Mapping[str, str] = MappingProxyType({})):
        """``kept_takes`` maps line ids to the take kept for each; a line that a take speaks but
        that has none there gets the newest take that speaks it."""
        lines, takes = tuple(lines), tuple(takes)
        line_ids = {line.id for line in lines}
        kept = _kept_filled(lines, takes, {line_id: take_id for line_id, take_id in dict(kept_takes).items()
                                           if line_id in line_ids})
        content = _Content(lines, MappingProxyType(dict(speakers)), params or GenerationParams(), takes, kept)
        _check(content)
        self._content = content
        self._saved_content: _Content | None = content
        self._generating: frozenset[str] = frozenset()
        self._listeners: list[Listener] = []
        self.revision = 0  # counts every change, undo and redo included
        self.undo_stack = UndoStack()

    @classmethod
    def from_script(cls, script: str) -> Dialogue:
        """A new document with the lines of a ``[S1] ... [S2] ...`` script."""
        return cls(parse_script(script))

    # --- reading -------------------------------------------------------------------------

    @property
    def lines(self) -> tuple[DialogueLine, ...]:
        return self._content.lines

    @property
    def speakers(self) -> Mapping[Speaker, SpeakerProfile]:
        return self._content.speakers

    @property
    def params(self) -> GenerationParams:
        return self._content.params

    @property
    def takes(self) -> tuple[Take, ...]:
        return self._content.takes

    @property
    def kept_takes(self) -> Mapping[str, str]:
        """Line id -> the id of the take kept for that line: the one that speaks it."""
        return self._content.kept_takes

    def lines_kept_by(self, take_id: str) -> tuple[str, ...]:
        """The ids of the lines this take is kept for, in dialogue order."""
        return tuple(line.id for line in self.lines if self.kept_takes.get(line.id) == take_id)

    def line(self, line_id: str) -> DialogueLine:
        return self.lines[self.index_of(line_id)]

    def index_of(self, line_id: str) -> int:
        for index, line in enumerate(self.lines):
            if line.id == line_id:
                return index
        raise DialogueError(f"The dialogue has no line {line_id!r}.")

    def take(self, take_id: str) -> Take:
        for take in self.takes:
            if take.id == take_id:
                return take
        raise DialogueError(f"The dialogue has no take {take_id!r}.")

    def take_for(self, line_id: str) -> Take | None:
        """The take that speaks this line: the one kept for it (None while no take has it)."""
        take_id = self.kept_takes.get(line_id)
        return self.take(take_id) if take_id is not None else None

    def status(self, line_id: str) -> LineStatus:
        line = self.line(line_id)
        if line_id in self._generating:
            return LineStatus.GENERATING
        take = self.take_for(line_id)
        if take is None:
            return LineStatus.NOT_GENERATED
        return LineStatus.GENERATED if _speaks_as_written(take, line) else LineStatus.OUTDATED

    def to_script(self, lines: Iterable[DialogueLine] | None = None) -> str:
        """The Dia2 script of all lines, or of the given ones (e.g. the selected lines)."""
        return build_script(self.lines if lines is None else lines)

    # --- unsaved changes, generating, listeners -------------------------------------------

    @property
    def modified(self) -> bool:
        """True when the content differs from what was last saved (undoing back to it counts)."""
        return self._content is not self._saved_content

    def mark_saved(self) -> None:
        self._saved_content = self._content
        self._notify(Change.SAVED)

    def mark_unsaved(self) -> None:
        """Treat the content as never saved, e.g. a document recovered after a crash."""
        self._saved_content = None
        self._notify(Change.SAVED)

    @property
    def generating(self) -> frozenset[str]:
        return self._generating

    def set_generating(self, line_ids: Iterable[str]) -> None:
        """Mark the lines being generated now (empty to clear). Not an edit: not undone, not saved."""
        self._generating = frozenset(line_ids)
        self._notify(Change.GENERATING)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    def _show(self, content: _Content) -> None:
        """Make ``content`` current; only the undo commands call this."""
        before, self._content = self._content, content
        self.revision += 1
        change = Change(0)
        for name, flag in _CHANGE_OF_FIELD.items():
            if getattr(before, name) != getattr(content, name):
                change |= flag
        self._notify(change)

    def _edit(self, description: str, merge_key: object = None, **changes) -> None:
        after = replace(self._content, **changes)
        if after != self._content:
            self.undo_stack.push(_ContentChange(self, description, self._content, after, merge_key))

    # --- editing lines ---------------------------------------------------------------------

    def insert_line(self, index: int, speaker: Speaker | None = None, text: str = "") -> DialogueLine:
        """A new line at ``index``; by default spoken by the other speaker than the line before."""
        lines = self.lines
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= len(lines):
            raise DialogueError(f"Cannot insert a line at position {index!r}; "
                                f"the dialogue has {len(lines)} lines.")
        if speaker is None:
            speaker = lines[index - 1].speaker.other if index else Speaker.S1
        line = DialogueLine(speaker, text)
        self._edit("Add line", lines=lines[:index] + (line,) + lines[index:])
        return line

    def add_line(self, speaker: Speaker | None = None, text: str = "") -> DialogueLine:
        """A new last line; by default the other speaker than the current last line."""
        return self.insert_line(len(self.lines), speaker, text)

    def duplicate_line(self, line_id: str) -> DialogueLine:
        """A copy of the line (with a new id) right below it."""
        index = self.index_of(line_id)
        original = self.lines[index]
        copy = DialogueLine(original.speaker, original.text)
        self._edit("Duplicate line", lines=self.lines[:index + 1] + (copy,) + self.lines[index + 1:])
        return copy

    def delete_lines(self, line_ids: Iterable[str]) -> None:
        """Delete these lines in one undo step (e.g. the selection)."""
        doomed = set(line_ids)
        for line_id in doomed:
            self.index_of(line_id)
        self._edit("Delete line" if len(doomed) == 1 else "Delete lines",
                   lines=tuple(line for line in self.lines if line.id not in doomed))

    def delete_line(self, line_id: str) -> None:
        self.delete_lines([line_id])

    def move_line(self, line_id: str, index: int) -> None:
        """Move the line so that it ends up at position ``index``."""
        self.move_lines([line_id], index)

    def move_lines(self, line_ids: Iterable[str], index: int) -> None:
        """Move these lines in one undo step (e.g. the selection, dragged): kept in the order they
        have in the dialogue, they end up together, the first of them at position ``index``."""
        moving = set(line_ids)
        for line_id in moving:
            self.index_of(line_id)
        block = tuple(line for line in self.lines if line.id in moving)
        rest = tuple(line for line in self.lines if line.id not in moving)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= len(rest):
            what = "a line" if len(block) == 1 else f"{len(block)} lines"
            raise DialogueError(f"Cannot move {what} to position {index!r}; "
                                f"the dialogue has {len(self.lines)} lines.")
        self._edit("Move line" if len(block) == 1 else "Move lines", lines=rest[:index] + block + rest[index:])

    def set_text(self, line_id: str, text: str) -> None:
        """Change the line's text; consecutive calls for the same line are one undo step."""
        self._replace_line("Edit text", line_id, ("text", line_id), text=text)

    def enter_text(self, line_id: str, text: str, cursor: int) -> tuple[str, int]:
        """Change the line's text as typed or pasted there, the text cursor at ``cursor``.

        Text without speaker tags is :meth:`set_text`. A tag starts a new line spoken by that
        speaker with the text after it, as in a script (a tag at the very start switches the
        line's own speaker), all in one undo step. Returns where the cursor is afterwards: the
        line and the position in its text.
        """
        for tag in TAG_LIKE.finditer(text):  # "[" typed before "S2]": the cursor is after the whole tag
            if tag.start() < cursor < tag.end():
                cursor = tag.end()
        head, before = split_turns(text[:cursor])
        tail, after = split_turns(text[cursor:])
        if not before and not after:
            # A space typed at the very start separates nothing ("[S2] Very loud" typed into a line:
            # the tag goes, and the space after it would have stayed in front of the words).
            leading = len(text) - len(text.lstrip())
            if cursor <= leading:
                text, cursor = text[leading:], 0
            self.set_text(line_id, text)
            return line_id, cursor
        index = self.index_of(line_id)
        line = self.lines[index]
        pieces = [(line.speaker, head), *before]  # the cursor is in the last of these
        at = len(pieces) - 1
        speaker, start = pieces[at]
        pieces[at] = (speaker, start + tail)
        pieces += after
        kept, cursor_at = [], None
        for number, (speaker, piece) in enumerate(pieces):
            # Spaces at a tag go, as at a split; the head keeps the spaces it starts with.
            trimmed = piece.strip() if number else piece.rstrip()
            if number == at:
                cut = len(piece) - len(piece.lstrip()) if number else 0
                cursor_at, cursor = len(kept), min(max(0, len(start) - cut), len(trimmed))
            elif not trimmed:
                continue  # an empty turn, e.g. "[S1][S2] Hi": only the cursor's line may be empty
            kept.append((speaker, trimmed))
        # The first piece kept stays the line itself (its id, so its takes still know it).
        replacement = tuple(replace(line, speaker=speaker, text=words) if number == 0 else DialogueLine(speaker, words)
                            for number, (speaker, words) in enumerate(kept))
        self._edit("Change speaker" if len(kept) == 1 else "Split at speaker tags",
                   lines=self.lines[:index] + replacement + self.lines[index + 1:])
        return replacement[cursor_at].id, cursor

    def set_speaker(self, line_id: str, speaker: Speaker) -> None:
        self._replace_line("Change speaker", line_id, None, speaker=speaker)

    def _replace_line(self, description: str, line_id: str, merge_key: object, **changes) -> None:
        index = self.index_of(line_id)
        lines = self.lines
        self._edit(description, merge_key,
                   lines=lines[:index] + (replace(lines[index], **changes),) + lines[index + 1:])

    def split_line(self, line_id: str, position: int) -> DialogueLine:
        """Split the line's text at character ``position``, like pressing Enter there.

        The line keeps its id and the text before the position; a new line of the same speaker
        gets the rest and is returned. Spaces at the cut are dropped. At the very start (nothing
        but spaces before the position) the new line is an empty one above, and the line itself
        stays untouched.
        """
        index = self.index_of(line_id)
        line = self.lines[index]
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= len(line.text):
            raise DialogueError(f"Cannot split a line of {len(line.text)} characters "
                                f"at position {position!r}.")
        head, tail = line.text[:position].rstrip(), line.text[position:].lstrip()
        if head:
            new_line = DialogueLine(line.speaker, tail)
            replacement = (replace(line, text=head), new_line)
        else:
            new_line = DialogueLine(line.speaker, "")
            replacement = (new_line, line)
        self._edit("Split line", lines=self.lines[:index] + replacement + self.lines[index + 1:])
        return new_line

    def merge_with_next(self, line_id: str) -> DialogueLine:
        """Append the next line's text to this line (one space between) and delete the next line."""
        index = self.index_of(line_id)
        if index + 1 == len(self.lines):
            raise DialogueError("The last line has no next line to merge with.")
        first, second = self.lines[index], self.lines[index + 1]
        text = " ".join(part for part in (first.text.rstrip(), second.text.lstrip()) if part)
        merged = replace(first, text=text)
        self._edit("Merge lines", lines=self.lines[:index] + (merged,) + self.lines[index + 2:])
        return merged

    # --- speakers and settings ---------------------------------------------------------------

    def edit_speaker(self, speaker: Speaker, *, name: str | None = None, colour: str | None = None) -> None:
        """Rename or recolour a speaker; consecutive edits of one speaker are one undo step."""
        changes = {key: value for key, value in (("name", name), ("colour", colour)) if value is not None}
        self._replace_speaker("Edit speaker", speaker, ("speaker", speaker), **changes)

    def set_voice(self, speaker: Speaker, voice: VoiceReference) -> None:
        self._replace_speaker("Set voice", speaker, None, voice=voice)

    def clear_voice(self, speaker: Speaker) -> None:
        self._replace_speaker("Clear voice", speaker, None, voice=None)

    def _replace_speaker(self, description: str, speaker: Speaker, merge_key: object, **changes) -> None:
        speakers = dict(self.speakers)
        speakers[speaker] = replace(speakers[speaker], **changes)
        self._edit(description, merge_key, speakers=MappingProxyType(speakers))

    def set_params(self, params: GenerationParams) -> None:
        """New generation settings. Consecutive changes of the same fields (a slider being
        dragged) are one undo step."""
        if not isinstance(params, GenerationParams):
            raise DialogueError(f"Generation settings must be GenerationParams, not {type(params).__name__}.")
        changed = frozenset(f.name for f in fields(params)
                            if getattr(params, f.name) != getattr(self.params, f.name))
        self._edit("Change settings", ("params", changed), params=params)

    # --- takes -------------------------------------------------------------------------------

    def add_takes(self, takes: Iterable[Take], regenerated: Iterable[str] = ()) -> None:
        """Add the takes of one generation in one undo step. Each is kept for the lines it speaks
        that have no take yet, or whose take is outdated (made before the line was changed) where
        it speaks the line as it reads now; the first also for the ``regenerated`` lines it speaks
        (the person asked for them again). Every other line keeps its take: the person chose it."""
        new = tuple(takes)
        if not new:
            return
        known = {take.id for take in self.takes}
        for take in new:
            if take.id in known:
                raise DialogueError(f"The dialogue already has a take {take.id!r}.")
            known.add(take.id)
        kept = dict(self.kept_takes)
        again = set(regenerated)
        takes = {take.id: take for take in self.takes + new}
        for number, take in enumerate(new):
            for line in self.lines:
                if take.source_line(line.id) is None:
                    continue
                current = takes.get(kept.get(line.id))
                if (current is None or (number == 0 and line.id in again)
                        or (not _speaks_as_written(current, line) and _speaks_as_written(take, line))):
                    kept[line.id] = take.id
        self._edit("Add take" if len(new) == 1 else "Add takes", takes=self.takes + new,
                   kept_takes=MappingProxyType(kept))

    def keep_take(self, take_id: str, line_ids: Iterable[str] | None = None) -> None:
        """Keep this take for these lines (default: every line of the document it speaks), so
        that it speaks them in the timeline, the whole dialogue and the export."""
        take = self.take(take_id)
        if line_ids is None:
            line_ids = [line.id for line in self.lines if take.source_line(line.id) is not None]
        kept = dict(self.kept_takes)
        for line_id in line_ids:
            row = self.index_of(line_id) + 1
            if take.source_line(line_id) is None:
                raise DialogueError(f"This take does not speak line {row}, so it cannot be kept for it.")
            kept[line_id] = take_id
        self._edit("Keep take", kept_takes=MappingProxyType(kept))

    def delete_take(self, take_id: str) -> None:
        """Delete a take; the lines it was kept for get the newest other take that speaks them."""
        self.take(take_id)
        takes = tuple(take for take in self.takes if take.id != take_id)
        kept = {line_id: kept_id for line_id, kept_id in self.kept_takes.items() if kept_id != take_id}
        self._edit("Delete take", takes=takes, kept_takes=_kept_filled(self.lines, takes, kept))


def _check(content: _Content) -> None:
    """The invariants every snapshot keeps; the edits keep them by construction."""
    for line in content.lines:
        if not isinstance(line, DialogueLine):
            raise DialogueError(f"A dialogue holds DialogueLine values, not {line!r}.")
    if len({line.id for line in content.lines}) != len(content.lines):
        raise DialogueError("Two lines have the same id.")
    if set(content.speakers) != set(Speaker):
        raise DialogueError("A dialogue needs a profile for each of S1 and S2.")
    for profile in content.speakers.values():
        if not isinstance(profile, SpeakerProfile):
            raise DialogueError(f"A speaker is described by a SpeakerProfile, not {profile!r}.")
    if not isinstance(content.params, GenerationParams):
        raise DialogueError("Generation settings must be GenerationParams.")
    take_ids = [take.id for take in content.takes]
    if len(set(take_ids)) != len(take_ids):
        raise DialogueError("Two takes have the same id.")
    takes = {take.id: take for take in content.takes}
    for line_id, take_id in content.kept_takes.items():
        if take_id not in takes:
            raise DialogueError(f"The take {take_id!r} kept for line {line_id!r} is not one of the dialogue's takes.")
        if takes[take_id].source_line(line_id) is None:
            raise DialogueError(f"The take {take_id!r} is kept for line {line_id!r}, which it does not speak.")


def _speaks_as_written(take: Take, line: DialogueLine) -> bool:
    """Whether the take was made from the line as it reads now (the same speaker and words)."""
    made_from = take.source_line(line.id)
    return made_from is not None and (made_from.speaker, made_from.spoken_text) == (line.speaker, line.spoken_text)


def _kept_filled(lines: Iterable[DialogueLine], takes: tuple[Take, ...],
                 kept: Mapping[str, str]) -> Mapping[str, str]:
    """``kept``, with the newest take that speaks it for each line that a take speaks and ``kept``
    has no take for."""
    filled = dict(kept)
    for line in lines:
        if line.id not in filled:
            newest = next((take for take in reversed(takes) if take.source_line(line.id) is not None), None)
            if newest is not None:
                filled[line.id] = newest.id
    return MappingProxyType(filled)
