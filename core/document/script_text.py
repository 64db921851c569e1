"""Lines to a Dia2 script (``[S1] … [S2] …``) and back."""

from __future__ import annotations

from typing import Iterable

from core.dia2.script import SPEAKER_TAGS
from core.document.errors import InvalidScript
from core.document.lines import DialogueLine, split_turns


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


def spoken_script_lines(script: str) -> tuple[DialogueLine, ...]:
    """The lines of a script as the model speaks it: words before the first tag are [S1]'s."""
    return parse_script(script if script.lstrip().startswith(SPEAKER_TAGS) else f"{SPEAKER_TAGS[0]} {script}")
