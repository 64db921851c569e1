"""The two speakers: who they are, how they are shown and how they sound."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Mapping

from core.dia2.script import SPEAKER_TAGS
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip, timed_words
from core.document.errors import DialogueError


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
