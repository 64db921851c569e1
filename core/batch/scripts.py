"""A render's script checked before the model loads: what the model's own parser refuses without
its tokenizer (an unknown speaker tag, no words at all, a tag with no words after it, a pause that
is malformed, too long or first). Shared by ``dia-studio render`` and the batch's manifest, so a
bad script costs a second, not the model's loading; the words themselves are tokenized (and
checked) once the model is there."""

from __future__ import annotations

from core.dia2.script import parse_script

# Stand-ins for the tokenizer's: each word one token, never the [S1] id; any frame rate (only the
# pauses' lengths in frames depend on it).
_WORD_TOKEN = 0
_FIRST_SPEAKER_ID = -1
_FRAME_RATE = 12.5


def check_script(script: str) -> None:
    """Raise UnspeakableScript (UnknownSpeakerTag for [S3]) as the model's parser would."""
    parse_script(script, lambda word: [_WORD_TOKEN], _FIRST_SPEAKER_ID, _FRAME_RATE)
