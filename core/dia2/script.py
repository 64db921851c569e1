"""Script text → the word entries Dia2's text state machine consumes.

The rules are the reference parser's, because the model was trained on its output:
curly apostrophes become straight ones and colons become spaces; the text is split on
whitespace and on ``<break time="Xs"/>`` tags; each word is tokenized on its own (no merge with
a leading space); a speaker tag is glued to the word after it (``"[S1] word"``); the first entry
always starts with the ``[S1]`` id; a break holds ``round(X · frame_rate)`` frames.
Non-verbal cues such as ``(laughs)`` are ordinary words. A tag for a speaker the model does not
have (``[S3]``) is refused rather than read out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from core.errors import DiaStudioError

BREAK_TAG = re.compile(r'<break\s+time\s*=\s*"([^"]*)"\s*/>')
# The two speakers' tags, in speaker order: the one place the studio spells them.
SPEAKER_TAGS = ("[S1]", "[S2]")
SPEAKER_TAG = re.compile("|".join(re.escape(tag) for tag in SPEAKER_TAGS))
# Anything written like a speaker tag, known or not: [S3] would otherwise be read out as text.
TAG_LIKE = re.compile(r"\[S\d+\]")
_WORD = re.compile(r"\S+")
MAX_BREAK_SECONDS = 10.0  # a longer silence is better made in an editor than by the model


class UnspeakableScript(DiaStudioError):
    """The script has nothing the model can say, or markup it cannot follow."""


class UnknownSpeakerTag(UnspeakableScript):
    """A speaker tag, such as [S3], for a speaker Dia2 does not have."""


def check_speaker_tags(script: str) -> None:
    """Refuse a tag written like a speaker tag that names none of the model's speakers."""
    unknown = _unknown_speaker_tags(script)
    if unknown:
        raise unknown_speaker_tag(unknown[0])


def unknown_speaker_tag(tag: str) -> UnknownSpeakerTag:
    return UnknownSpeakerTag(f"{tag} is not a speaker tag: Dia2 has two speakers, {' and '.join(SPEAKER_TAGS)}.")


def without_unknown_speaker_tags(text: str) -> tuple[str, list[str]]:
    """The text with each tag that ``check_speaker_tags`` refuses taken out, and those tags: what a
    reader with no one to ask again (``speak``'s stdin) can still speak."""
    return TAG_LIKE.sub(lambda tag: tag.group(0) if tag.group(0) in SPEAKER_TAGS else "", text), \
        _unknown_speaker_tags(text)


def _unknown_speaker_tags(text: str) -> list[str]:
    return [tag for tag in TAG_LIKE.findall(text) if tag not in SPEAKER_TAGS]


@dataclass(frozen=True)
class Entry:
    """One word (or pause) of the script: its token ids and the frames it holds the text stream."""

    text: str
    tokens: tuple[int, ...]
    hold: int

    @property
    def is_break(self) -> bool:
        return not self.tokens


def normalize(text: str) -> str:
    return text.replace("\u2019", "'").replace(":", " ")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where each spoken word of a line's text lies, as (first character, one past the last).

    The runtime splits on whitespace and pause tags, colons counting as spaces; a pause tag is
    not a word."""
    normal = normalize(text)  # one character for one, so the places hold in ``text``
    spans, start = [], 0
    for tag in BREAK_TAG.finditer(normal):
        spans += [word.span() for word in _WORD.finditer(normal, start, tag.start())]
        start = tag.end()
    return spans + [word.span() for word in _WORD.finditer(normal, start)]


def spoken_words(text: str) -> list[str]:
    """The words of a text as the runtime counts them, and so times them (pause tags are not
    words; a cue such as ``(laughs)`` is)."""
    normal = normalize(text)
    return [normal[start:end] for start, end in word_spans(normal)]


def parse_script(script: str, encode: Callable[[str], list[int]], first_speaker_id: int,
                 frame_rate: float, force_first_speaker: bool = True) -> list[Entry]:
    """Split ``script`` into entries. ``force_first_speaker`` puts the [S1] id in front of the
    first entry when it is missing (the reference always does; a negative prompt does not)."""
    check_speaker_tags(script)
    entries: list[Entry] = []
    pending_tags: list[str] = []
    pieces = BREAK_TAG.split(normalize(script))
    # re.split alternates text and the captured break durations.
    for index, piece in enumerate(pieces):
        if index % 2:
            entries.append(break_entry(piece, frame_rate))
            continue
        entries += word_entries(piece, pending_tags, encode)
    check_ending(pending_tags, has_words=any(not entry.is_break for entry in entries))
    if force_first_speaker and entries[0].tokens[:1] != (first_speaker_id,):
        if entries[0].is_break:
            raise UnspeakableScript(STARTS_WITH_A_PAUSE)
        entries[0] = with_first_speaker(entries[0], first_speaker_id)
    return entries


STARTS_WITH_A_PAUSE = "The script starts with a pause; start it with a line of dialogue."


def word_entries(text: str, pending_tags: list[str], encode: Callable[[str], list[int]]) -> list[Entry]:
    """The words of ``text`` (no break tags in it), each glued to the speaker tags before it;
    tags not yet followed by a word stay in ``pending_tags``."""
    entries = []
    for word in text.split():
        if SPEAKER_TAG.fullmatch(word):
            pending_tags.append(word)
            continue
        tokens = tuple(encode(" ".join(pending_tags + [word])))
        pending_tags.clear()
        entries.append(Entry(word, tokens, len(tokens)))
    return entries


def break_entry(duration: str, frame_rate: float) -> Entry:
    return Entry("", (), _break_frames(duration, frame_rate))


def check_ending(pending_tags: list[str], has_words: bool) -> None:
    """What a whole script must satisfy at its end: no tag left without its word, some words."""
    if pending_tags:
        raise UnspeakableScript(f"The speaker tag {pending_tags[-1]} at the end of the script has no words after it.")
    if not has_words:
        raise UnspeakableScript("The script has no words to speak. Write at least one line of dialogue.")


def with_first_speaker(entry: Entry, first_speaker_id: int) -> Entry:
    """The reference's quirk: the session's first word always starts with the [S1] id."""
    tokens = (first_speaker_id,) + entry.tokens
    return Entry(entry.text, tokens, len(tokens))


def pause_seconds(duration: str) -> float:
    """The seconds of a pause tag's ``time`` ("1.5s")."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*s\s*", duration)
    if not match:
        raise UnspeakableScript(f'The pause <break time="{duration}"/> needs a duration in seconds, '
                                'such as <break time="1.5s"/>.')
    seconds = float(match.group(1))
    if seconds > MAX_BREAK_SECONDS:
        raise UnspeakableScript(f"A pause of {seconds:g} s is too long; the longest is {MAX_BREAK_SECONDS:g} s.")
    return seconds


def _break_frames(duration: str, frame_rate: float) -> int:
    return round(pause_seconds(duration) * frame_rate)  # Python rounds half to even, as the reference does
