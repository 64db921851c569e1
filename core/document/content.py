"""One snapshot of the document, what an edit may change in it, and the undo command that swaps one
snapshot for another."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, Flag, auto
from typing import Callable, Mapping

from core.document.errors import DialogueError
from core.document.lines import DialogueLine
from core.document.speakers import Speaker, SpeakerProfile
from core.document.takes import Take
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams


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
    CHECKS = auto()  # a take's checks arrived
    # The project's or the shared lexicon, so what the model reads. Sent with TAKES: whether a
    # take speaks its lines as they are read now may have changed with it.
    LEXICON = auto()


@dataclass(frozen=True)
class Content:
    """Everything an edit can change: one snapshot of the document."""

    lines: tuple[DialogueLine, ...]
    speakers: Mapping[Speaker, SpeakerProfile]
    params: GenerationParams
    takes: tuple[Take, ...]
    kept_takes: Mapping[str, str]  # line id -> the id of the take kept for it
    lexicon: Lexicon = Lexicon()  # the project's own (the shared one is the studio's, not the document's)


CHANGE_OF_FIELD = {"lines": Change.LINES, "speakers": Change.SPEAKERS, "params": Change.PARAMS,
                    "takes": Change.TAKES, "kept_takes": Change.TAKES, "lexicon": Change.LEXICON | Change.TAKES}


class ContentChange:
    """The undo command behind every edit: swap one snapshot for another."""

    def __init__(self, show: Callable[[Content], None], description: str, before: Content, after: Content,
                 merge_key: object):
        self.text = description
        self._show = show  # puts a snapshot in the document
        self._before = before
        self._after = after
        self._merge_key = merge_key

    def redo(self) -> None:
        self._show(self._after)

    def undo(self) -> None:
        self._show(self._before)

    def merge(self, newer) -> bool:
        if (self._merge_key is None or not isinstance(newer, ContentChange) or newer._merge_key != self._merge_key
                or newer._before is not self._after):
            return False
        self._after = newer._after
        return True


def check_content(content: Content) -> None:
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
    if not isinstance(content.lexicon, Lexicon):
        raise DialogueError(f"A project's lexicon is a Lexicon, not {content.lexicon!r}.")
    take_ids = [take.id for take in content.takes]
    if len(set(take_ids)) != len(take_ids):
        raise DialogueError("Two takes have the same id.")
    takes = {take.id: take for take in content.takes}
    for line_id, take_id in content.kept_takes.items():
        if take_id not in takes:
            raise DialogueError(f"The take {take_id!r} kept for line {line_id!r} is not one of the dialogue's takes.")
        if takes[take_id].source_line(line_id) is None:
            raise DialogueError(f"The take {take_id!r} is kept for line {line_id!r}, which it does not speak.")
