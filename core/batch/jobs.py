"""The renders of a batch, each read and checked from its manifest entry, run on whichever engine
is free: a script with its voices and parameters (as ``dia-studio render`` renders one), or a saved
project (as ``dia-studio render --project`` renders one), each with its speakers' stems if asked;
and, when the batch goes on without them (``--skip-bad``), an entry refused, which fails with its
problems."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from core.audio.formats import ExportSettings
from core.batch.outputs import export_take, remove_leftovers, script_speakers, stem_paths
from core.batch.projects import generate_runs
from core.dia2.events import GenerationRequest, TakeResult, TakeStarted
from core.errors import Cancelled, DiaStudioError
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import respell
from core.params import GenerationParams
from core.project.layout import project_name
from core.project.opening import open_project
from core.studio.dialogue_generation import lines_to_generate
from core.studio.exporting import ExportChoice, export_dialogue
from core.studio.lexicon_use import written_result
from core.studio.voice_input import VoiceInput


@dataclass
class Rendered:
    """What a render made, noted as it goes: a render that fails part way is reported with it."""

    outputs: list[Path] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)  # of each take of a best-of render, as the report says them


@dataclass
class ScriptRender:
    name: str  # where the manifest gives it: "renders[3]", "line 4"
    script: str
    params: GenerationParams  # with the seed of its first take
    voices: tuple[VoiceInput, ...]
    settings: ExportSettings
    take_files: tuple[Path, ...]  # one per take; with best_of, the one for the best
    best_of: int | None = None  # make this many takes (params.number_results) and write the best-checked
    stems: bool = False  # also each speaker's stem beside each take's file
    lexicon: Lexicon = Lexicon()  # how words are read (the command line's --lexicon, then the render's)
    notes: tuple[str, ...] = ()  # what its lexicon files left out, said with its outcome
    needs_model = True

    @property
    def outputs(self) -> tuple[Path, ...]:
        """Every file the render writes: each take's, and its stems after it."""
        speakers = script_speakers(self.script) if self.stems else ()
        return tuple(path for take in self.take_files for path in (take, *stem_paths(take, speakers)))

    def run(self, engine, cancel: threading.Event, made: Rendered) -> None:

        made.seeds += self.params.take_seeds()  # chosen when the manifest was read
        made.notices += list(self.notes)
        respelled = respell(self.script, self.lexicon)  # what the model reads
        prompts = []
        for voice in self.voices:  # a voice several renders share is prepared once, for all
            prepared = voice.prepared(engine)
            prompts.append(prepared.prompt)
            made.notices += [f"{voice.path.name}: {notice}" for notice in prepared.notices]
        self.take_files[0].parent.mkdir(parents=True, exist_ok=True)
        request = GenerationRequest(respelled.spoken, self.params, tuple(prompts), takes_only=True)
        finished = []
        for event in engine.generate(request, cancel):
            if not isinstance(event, TakeResult):
                continue
            if cancel.is_set():
                raise Cancelled("cancelled")  # an unfinished take is not written
            if not event.complete:
                continue  # cut short with its engine: the EngineFailed that follows says why
            event = written_result(event, [respelled])  # its words as written
            made.notices += [notice for notice in event.notices if notice not in made.notices]
            if self.best_of:
                finished.append(event)
            else:
                self._write(event, self.take_files[event.take], made)
        if self.best_of:
            self._write(self._best(finished, made), self.take_files[0], made)

    def _write(self, take: TakeResult, path: Path, made: Rendered) -> None:
        speakers = script_speakers(self.script) if self.stems else ()
        for written in (path, *stem_paths(path, speakers)):
            remove_leftovers(written)
        made.outputs += export_take(self.script, take, path, self.settings, stems=self.stems)

    def _best(self, finished: list[TakeResult], made: Rendered) -> TakeResult:
        """The take that checks best; every take's checks go into the report."""
        from core.studio.take_checking import best_result
        from core.take_checks.speaker_encoder import LstmVoiceEncoder
        from core.take_checks.take_checker import Voice

        voices = {f"S{number}": Voice(voice.clip.samples, voice.clip.sample_rate)
                  for number, voice in enumerate(self.voices, start=1)}
        best, checked = best_result(self.script, finished, voices, LstmVoiceEncoder())
        made.checks = [{"take": result.take + 1, "seed": result.seed, "kept": result is best, **checks.as_json()}
                       for result, checks in checked]
        if best is None:
            raise DiaStudioError("no take was finished: nothing to choose from")
        return best


@dataclass
class ProjectRender:
    name: str  # the project folder's name
    folder: Path
    choice: ExportChoice  # the whole dialogue, to one file
    untaken: str | None  # the lines without a current take, as "lines 1–4" (None: all have theirs)
    stem_files: tuple[Path, ...] = ()  # with choice.stems: each speaker's, as the export names them
    lexicon: Lexicon = Lexicon()  # --lexicon: over the project's shared entries, under its own

    @property
    def needs_model(self) -> bool:
        return self.untaken is not None

    @property
    def outputs(self) -> tuple[Path, ...]:
        return (self.choice.path, *self.stem_files)

    def run(self, engine, cancel: threading.Event, made: Rendered) -> None:
        dialogue = open_project(self.folder)  # afresh: a retried render starts from the project as saved
        dialogue.use_shared_lexicon(self.lexicon)
        runs = lines_to_generate(dialogue, [line.id for line in dialogue.lines])
        generate_runs(engine, dialogue, runs, cancel, lambda said: None,
                      lambda event: _note_take(event, made))
        self.choice.path.parent.mkdir(parents=True, exist_ok=True)
        for path in self.outputs:
            remove_leftovers(path)
        made.outputs = export_dialogue(dialogue, self.choice, project_name(self.folder))


def _note_take(event, made: Rendered) -> None:

    if isinstance(event, TakeStarted):  # a project's seeds are chosen as its lines are generated
        made.seeds.append(event.seed)
    elif isinstance(event, TakeResult):
        made.notices += [notice for notice in event.notices if notice not in made.notices]


class Refused(DiaStudioError):
    """A manifest entry the batch went on without: what is wrong with it."""


@dataclass
class RefusedRender:
    """A manifest entry with problems, kept in its place when the batch goes on without it
    (``--skip-bad``): it fails at once with them, rendering nothing."""

    name: str
    problems: list[str]
    outputs = ()
    needs_model = False

    def run(self, engine, cancel: threading.Event, made: Rendered) -> None:
        raise Refused(f"not rendered: {'; '.join(self.problems)}")
