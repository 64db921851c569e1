"""One line of the dialogue, and the speaker tags that may not stand inside one."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.dia2.script import BREAK_TAG, SPEAKER_TAG, UnknownSpeakerTag, check_speaker_tags
from core.document.errors import DialogueError, InvalidScript
from core.document.ids import new_id
from core.document.speakers import Speaker


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
