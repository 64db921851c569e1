"""One generation of a dialogue's lines: the document as it is when it starts → a request, and
each finished take back into the document. The window runs it on a worker thread, the command
line in its own loop.

Selected lines are generated after the lines before them (from their kept takes, see
``core.studio.lines_before``), so the voices and the conversation carry on into them.

The lines go to the model respelled by the document's lexicon in use (each line on its own); the
takes come back with the words as written (``core.studio.take_assembly``).

The first take of a generation is kept for the lines that had no take (or an outdated one), and
for the selected lines when it is complete (they were asked for again); every other line keeps the
take chosen for it (see ``Dialogue.add_takes``).

The engine (``core.engine.engine.Engine``) needs only ``generate(request, cancel)`` yielding the
events of ``core.dia2.generator`` (and ``encode_voice``/``sample_rate`` when voices or lines before
are given), so a test may give a stand-in with just those.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.dia2.events import GenerationRequest, TakeResult
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.script_text import build_script
from core.document.speakers import Speaker, VoiceReference
from core.document.takes import Take
from core.errors import DiaStudioError
from core.audio.stored_audio import as_stored
from core.lexicon.respelling import timed_words
from core.studio.lines_before import HeardLine, lines_before, spoken_context
from core.studio.take_assembly import take_from_result
from core.studio.voice_loading import voice_prompts

if TYPE_CHECKING:
    from core.engine.engine import Engine


class CannotGenerate(DiaStudioError):
    """The document is not ready to generate; the message says what to do."""


@dataclass(frozen=True)
class SpeakingWith:
    """What a take starting at a line speaks with, as the document reads when it is asked for:
    the speakers' voices, and the lines heard before it. Raises CannotGenerate when the voices
    are not ready."""

    voices: tuple[VoiceReference, ...]
    before: tuple[HeardLine, ...]

    @classmethod
    def at(cls, dialogue: Dialogue, line_id: str) -> "SpeakingWith":
        return cls(voices_in_order(dialogue), lines_before(dialogue, line_id))

    def encoded(self, engine: Engine) -> tuple[tuple[VoicePrompt, ...], SpokenContext | None]:
        """The voice prompts and the spoken context, encoded on the engine: model work, so off the
        GUI thread."""
        prompts = voice_prompts(engine, self.voices) if self.voices else ()
        return prompts, spoken_context(engine, self.before)


class DialogueGeneration:
    """The given lines (default: all) as they read now, with the voices and the lines before them:
    edits made while it runs do not change what it generates. Raises CannotGenerate when the
    document is not ready."""

    def __init__(self, dialogue: Dialogue, line_ids: list[str] | None = None):
        lines = tuple(dialogue.line(i) for i in line_ids) if line_ids else dialogue.lines
        self.lines = tuple(line for line in lines if line.spoken_text)  # as they read now, in the script's order
        if not self.lines:
            raise CannotGenerate("There is no text to speak: write a line first.")
        self.dialogue = dialogue
        self.respellings = tuple(dialogue.respelling(line) for line in self.lines)  # what the model reads
        self.script = build_script(replace(line, text=respelling.spoken)
                                   for line, respelling in zip(self.lines, self.respellings))
        self.params = dialogue.params
        first = min(self.lines, key=lambda line: dialogue.index_of(line.id))
        self.speaking_with = SpeakingWith.at(dialogue, first.id)
        self.regenerated = tuple(line.id for line in self.lines) if line_ids else ()  # asked for again
        self.notices: list[str] = []  # said by its takes, each once
        self.takes: list[Take] = []  # added to the document, in order

    @property
    def words_per_take(self) -> int:
        """The words the model times in a take: those it reads."""
        return sum(len(timed_words(respelling.spoken)) for respelling in self.respellings)

    def events(self, engine: Engine, cancel: threading.Event) -> Iterator:
        """The engine's events for these lines, each take's audio as a saved project holds it.
        Encodes the voices and the lines before first: model work, so off the GUI thread."""
        prompts, context = self.speaking_with.encoded(engine)
        for event in engine.generate(GenerationRequest(self.script, self.params, prompts, context), cancel):
            if isinstance(event, TakeResult):  # its audio as the project will keep it, encoded here, off the GUI thread
                event = replace(event, audio=as_stored(event.audio, event.sample_rate))
            yield event

    def add_result(self, result: TakeResult) -> tuple[list[str], Take | None]:
        """Put a finished take into the document. Returns the notices not said before by this
        generation's takes (every take says the same), and the take (None: nothing was made)."""
        new_notices = [notice for notice in dict.fromkeys(result.notices) if notice not in self.notices]
        self.notices += new_notices
        take = take_from_result(result, self.lines, self.respellings)
        if take is not None:
            regenerated = self.regenerated if result.complete and not self.takes else ()
            self.dialogue.add_takes([take], regenerated)
            self.takes.append(take)
        return new_notices, take


def voices_in_order(dialogue: Dialogue) -> tuple[VoiceReference, ...]:
    """The voice references for the request: speaker 1's first, as Dia2 expects."""
    first, second = (dialogue.speakers[s].voice for s in Speaker)
    if second is not None and first is None:
        raise CannotGenerate(f"{dialogue.speakers[Speaker.S2].name} has a voice but "
                             f"{dialogue.speakers[Speaker.S1].name} has none: Dia2 takes the first voice "
                             "as speaker 1. Give both a voice, or clear the second one.")
    for speaker, voice in zip(Speaker, (first, second)):
        if voice is not None and not voice.words:
            raise CannotGenerate(f"The voice of {dialogue.speakers[speaker].name} has no timed words: "
                                 "type its transcript, or load it again.")
    return tuple(voice for voice in (first, second) if voice is not None)


def lines_to_generate(dialogue: Dialogue, line_ids: Iterable[str], again: bool = False) -> list[list[str]]:
    """The lines among ``line_ids`` that need a take (no take, or one made before the line
    changed; every one with ``again``), in dialogue order, in runs of lines that follow each other
    in the script: each run is one generation, after the lines before it, as when the person
    selects those lines and generates them."""
    chosen = set(line_ids)
    runs: list[list[str]] = [[]]
    for line in dialogue.lines:
        if not line.spoken_text:
            continue  # not in the script: the lines either side of it follow each other
        if line.id in chosen and (again or dialogue.status(line.id) is not LineStatus.GENERATED):
            runs[-1].append(line.id)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]
