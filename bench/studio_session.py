"""A person's session in the studio, scripted: the real window offscreen on the tiny checkpoint,
its model on a real engine (in the studio's process or its own), a sound card without sound, and
one cycle of work done over and over: open the project, generate it, regenerate a line (every
third time cancelled at its first audio), hear the dialogue, keep an older take, speak a new line
as it is typed and keep the preview, undo and redo, autosave, export, save.

Every act is timed (``Action``) and every result checked: each take made is in the document, the
autosave copy and the saved project load back with the same lines and takes, the export decodes to
the dialogue's length. What fails a check is a ``problem`` of the cycle; what never comes is
``Stalled``. Waits run the Qt event loop until the signal that ends them, never a sleep.
"""

from __future__ import annotations

import gc
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtTest import QTest

from app.controller import StudioController
from app.settings import Settings, WindowLayout
from bench.drift import Action
from core.audio.formats import ExportSettings
from core.audio.playback import PlayerState
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.engine.choice import EngineChoice
from core.engine.engine import EngineKind
from core.params import GenerationParams
from core.project.opening import open_project
from core.project.recovery import recover
from core.studio.exporting import ExportChoice
from core.studio.heard_dialogue import DialogueAudio
from tests.fake_sound_card import FakeBackend
from tests.ui.conftest import SPEAKER1_TEXT, SPEAKER1_WAV, TINY_CHECKPOINT, WordsTranscriber

WAIT_S = 180.0  # longest wait for one act on a busy 2-core machine
LINES = ((Speaker.S1, "Did you hear the rain last night?"), (Speaker.S2, "I slept through all of it."),
         (Speaker.S1, "Lucky you, it was loud."))
TYPED = ("Well, I brought you an umbrella anyway.", "Next time wake me up, will you?",
         "The garden looks happier this morning.", "Shall we walk to the market later?")
EXPORT_FORMATS = ("WAV", "FLAC", "MP3", "OGG")
UNDO_STEPS = 3


class Stalled(Exception):
    """What the soak waited for did not come in time: the studio hangs."""


def wait_for(signal, start: Callable[[], object] | None = None, accept: Callable[..., bool] = lambda *args: True,
             what: str = "a signal", timeout_s: float = WAIT_S) -> tuple:
    """Run the event loop until ``signal`` is emitted with arguments ``accept`` takes (``start``
    is called once connected); returns those arguments."""
    loop, got = QEventLoop(), []

    def heard(*args) -> None:
        if not got and accept(*args):
            got.append(args)
            loop.quit()

    signal.connect(heard)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    try:
        if start is not None:
            start()
        if not got:
            timer.start(round(timeout_s * 1000))
            loop.exec()
    finally:
        timer.stop()
        signal.disconnect(heard)
    if not got:
        raise Stalled(f"{what} did not come within {timeout_s:g} s")
    return got[0]


class ForgetfulSoundCard(FakeBackend):
    """The tests' sound card without sound, forgetting what it played: it keeps every stream and
    every block for the tests to look at, which over a soak is the card's memory, not the studio's."""

    def _open(self, *args, **kwargs):
        stream = super()._open(*args, **kwargs)
        stream.played = deque(maxlen=1)
        del self.streams[:-1]  # a stream's thread holds it while it plays
        return stream


class ScriptedAnswers:
    """The studio's questions answered as the soak's person would; nothing remembered but the
    errors said (a record of every export question would keep each document alive)."""

    def __init__(self):
        self.export_choice: ExportChoice | None = None
        self.errors: list[str] = []

    def save_changes(self, name):
        return "discard"

    def recover(self, description):
        return "discard"

    def error(self, title, message):
        self.errors.append(f"{title}: {message}")

    def open_project_path(self, folder):
        return None

    def save_project_path(self, suggested):
        return None

    def pause_markup(self):
        return None

    def export(self, initial, summary, selection=(), planned=None):
        return self.export_choice


@dataclass
class Cycle:
    """What one cycle did and found."""

    number: int
    takes_made: int = 0  # by generations and kept previews
    takes_in_document: int = 0
    autosave_checked: bool = False
    export_checked: bool = False
    save_checked: bool = False
    cancelled: bool = False
    saved_to: str = ""
    problems: list[str] = field(default_factory=list)


def content_of(dialogue: Dialogue) -> tuple:
    """What must survive undo and redo, autosave and save: the lines, the takes and their audio
    lengths, and the take kept for each line."""
    takes = tuple((take.id, take.audio.frame_count) for take in dialogue.takes)
    return tuple((line.id, line.speaker, line.text) for line in dialogue.lines), takes, dict(dialogue.kept_takes)


def decoded_seconds(path: Path) -> float:
    """The length of an audio file as FFmpeg (PyAV) decodes it, not as our writer meant it."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)) / stream.rate


class StudioSession:
    """One studio, its folders under ``folder``, its model on ``engine``; ``record`` gets every act
    timed, ``clock()`` says when (seconds into the run)."""

    def __init__(self, engine: EngineKind, folder: Path, record: Callable[[Action], None],
                 clock: Callable[[], float], seed: int = 0, warm_voices_mb: int | None = None):
        """``warm_voices_mb``: the bound of the voice states the engine keeps (None: the studio's
        default)."""
        self.engine_kind, self.folder, self._record, self._clock = engine, folder, record, clock
        self._warm_voices_mb = warm_voices_mb
        self._random = random.Random(seed)
        self.base = folder / "Rain.diastudio"
        self.studio: StudioController | None = None
        self.answers = ScriptedAnswers()
        self._autosaved_revision = -1

    # --- start and end ---------------------------------------------------------------------------

    def open(self) -> None:
        """Start the studio, load the tiny model on the engine, turn on speak as I type, and make
        the project the cycles open: three lines, speaker 1 with a voice."""
        store = QSettings(str(self.folder / "settings.ini"), QSettings.Format.IniFormat)
        settings = Settings(store)
        settings.first_start_done = True
        if self._warm_voices_mb is not None:
            settings.warm_voices_mb = self._warm_voices_mb
        studio = self.studio = StudioController(settings, WindowLayout(store), self.folder / "data",
                                                ForgetfulSoundCard(speed=4.0),
                                                transcriber=WordsTranscriber(SPEAKER1_TEXT),
                                                engine=EngineChoice(self.engine_kind))
        studio.prompts = self.answers
        # A revision counts a document's changes: the next document's count starts again.
        studio.document.autosaver.saved.connect(lambda copy, revision: setattr(self, "_autosaved_revision", revision))
        studio.document.document_replaced.connect(lambda dialogue: setattr(self, "_autosaved_revision", -1))
        studio.start()
        self._timed("load model", lambda: wait_for(
            studio.models.loaded, lambda: studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32"),
            what="the model loaded"))
        studio.window.actions.speak_as_i_type.trigger()
        for speaker, text in LINES:
            studio.dialogue.add_line(speaker, text)
        wait_for(studio.voices.prepared, lambda: studio.voices.load(Speaker.S1, str(SPEAKER1_WAV)),
                 what="speaker 1's voice")
        if studio.dialogue.speakers[Speaker.S1].voice is None or not studio.save_as(self.base):
            raise Stalled(f"the project could not be made: {self.answers.errors}")

    def model_pid(self) -> int | None:
        """The model's own process, when it has one."""
        return getattr(self.studio.models.engine, "pid", None)

    def close(self) -> None:
        self.studio.window.close()
        self.settle()

    def settle(self) -> None:
        """A quiet moment between cycles: nothing plays, objects Qt deletes later are deleted, and
        the garbage is collected, so what is left is what the studio keeps."""
        self.studio.playback.stop()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        gc.collect()

    # --- one cycle -------------------------------------------------------------------------------

    def cycle(self, cycle: Cycle) -> None:
        """Do one cycle, filling in ``cycle`` as it goes (what was done stays counted when a wait
        times out)."""
        studio, number = self.studio, cycle.number
        made: list[str] = []
        errors_before = len(self.answers.errors)
        if not self._timed("open project", lambda: studio.open_project(self.base)):
            cycle.problems.append("the project did not open")
            return
        studio.dialogue.set_params(GenerationParams(seed=number))
        self._generate("generate", studio.generate, made, cycle)

        line = self._random.choice(studio.dialogue.lines)
        studio.window.timeline.select_line(line.id)
        cycle.cancelled = number % 3 == 2
        self._generate("regenerate", studio.window.actions.generate_selected.trigger, made, cycle,
                       cancel_at_first_audio=cycle.cancelled)
        self._hear_the_dialogue()
        self._keep_an_older_take(cycle)
        self._speak_a_new_line(self._random.choice(TYPED), made, cycle)
        self._undo_and_redo(cycle)

        present = {take.id for take in studio.dialogue.takes}
        cycle.takes_made, cycle.takes_in_document = len(made), len(present)
        missing = [take_id for take_id in made if take_id not in present]
        if missing:
            cycle.problems.append(f"{len(missing)} of the {len(made)} takes made are not in the document")
        self._autosave(cycle)
        self._export(number, cycle)
        self._save(number, cycle)
        cycle.problems += self.answers.errors[errors_before:]

    def _timed(self, kind: str, act: Callable[[], object]):
        started = time.perf_counter()
        result = act()
        self._record(Action(kind, self._clock(), time.perf_counter() - started))
        return result

    def _generate(self, kind: str, start: Callable[[], object], made: list[str], cycle: Cycle,
                  cancel_at_first_audio: bool = False) -> None:
        generation = self.studio.generation
        added = []
        generation.take_added.connect(added.append)
        if cancel_at_first_audio:
            generation.chunk.connect(self._cancel_once)
        try:
            (cancelled,) = self._timed(kind, lambda: wait_for(generation.finished, start, what=f"the {kind}'s end"))
        finally:
            generation.take_added.disconnect(added.append)
            if cancel_at_first_audio:
                generation.chunk.disconnect(self._cancel_once)
        made += [take.id for take in added]
        cycle.takes_made = len(made)
        wanted = self.studio.dialogue.params.number_results
        if not cancelled and len(added) != wanted:
            cycle.problems.append(f"the {kind} added {len(added)} takes of {wanted}")

    def _cancel_once(self, take: int, samples) -> None:
        self.studio.cancel_generation()

    def _hear_the_dialogue(self) -> None:
        studio = self.studio
        studio.window.actions.stop.trigger()  # the take made last may still be heard
        studio.window.takes.show_whole_dialogue()

        def ended(label, playing, position, duration, waiting) -> bool:
            return studio.playback.player is not None and studio.playback.player.state is PlayerState.ENDED

        self._timed("play dialogue", lambda: wait_for(studio.playback.changed, studio.window.actions.play_pause.trigger,
                                                      ended, what="the dialogue played to its end"))

    def _keep_an_older_take(self, cycle: Cycle) -> None:
        """The first take (newest listed first) whose Keep would change what a line keeps."""
        panel = self.studio.window.takes
        for row in reversed(range(panel.list.count())):
            panel.list.setCurrentRow(row)
            if panel.keep_button.isEnabled():
                take_id = panel.selected_take_id()
                self._timed("keep take", panel.keep_button.click)
                if not self.studio.dialogue.lines_kept_by(take_id):
                    cycle.problems.append("Keep did not keep the take")
                return

    def _speak_a_new_line(self, text: str, made: list[str], cycle: Cycle) -> None:
        """Type a new line with speak as I type on, Enter, and keep its preview."""
        studio = self.studio
        preview = studio.live_preview
        line = studio.dialogue.add_line(Speaker.S2, "")
        editor = studio.window.timeline.edit_line(line.id)
        first_audio: list[float] = []  # when the first chunk came, the typing having begun at 0

        def heard(samples) -> None:
            if not first_audio:
                first_audio.append(time.perf_counter() - started)

        def type_it() -> None:
            QTest.keyClicks(editor, text)
            QTest.keyClick(editor, Qt.Key.Key_Return)

        said: list[str] = []  # why a preview did not start or failed: the stall says it

        def say(message: str) -> None:
            said.append(message)

        preview.chunk.connect(heard)
        preview.said.connect(say)
        started = time.perf_counter()
        try:
            (result,) = self._timed("speak as I type", lambda: wait_for(
                preview.take_finished, type_it, what="the typed line's preview"))
        except Stalled as stalled:
            raise Stalled(f"{stalled}; the preview said: {' / '.join(said) or 'nothing'}") from None
        finally:
            preview.chunk.disconnect(heard)
            preview.said.disconnect(say)
        if first_audio:
            self._record(Action("first audio as I type", self._clock(), first_audio[0]))
        else:
            cycle.problems.append("the typed line was not heard")
        if not result.complete:
            cycle.problems.append("the typed line's preview did not finish")
            return
        before = {take.id for take in studio.dialogue.takes}
        self._timed("keep preview", studio.window.actions.keep_preview.trigger)
        new = [take.id for take in studio.dialogue.takes if take.id not in before]
        if studio.dialogue.take_for(line.id) is None or len(new) != 1:
            cycle.problems.append("the kept preview is not the line's take")
        made += new
        cycle.takes_made = len(made)

    def _undo_and_redo(self, cycle: Cycle) -> None:
        actions, before = self.studio.window.actions, content_of(self.studio.dialogue)
        undone = 0
        while undone < UNDO_STEPS and actions.undo.isEnabled():
            self._timed("undo", actions.undo.trigger)
            undone += 1
        for _ in range(undone):
            self._timed("redo", actions.redo.trigger)
        if content_of(self.studio.dialogue) != before:
            cycle.problems.append(f"undo and redo of {undone} steps changed the document")

    def _autosave(self, cycle: Cycle) -> None:
        document = self.studio.document
        revision = document.dialogue.revision

        def write() -> None:
            if self._autosaved_revision != revision:  # the timer may have written it already
                wait_for(document.autosaver.saved, document.autosave_now, lambda copy, saved: saved == revision,
                         what="the autosave")

        self._timed("autosave", write)
        copies = document.recoverable()
        if not copies:
            cycle.problems.append("no autosave copy on disk")
        elif content_of(recover(copies[0])) != content_of(document.dialogue):
            cycle.problems.append("the autosave copy loads with other lines or takes")
        else:
            cycle.autosave_checked = True

    def _export(self, number: int, cycle: Cycle) -> None:
        studio = self.studio
        settings = ExportSettings.create(EXPORT_FORMATS[number % len(EXPORT_FORMATS)])
        path = self.folder / "exports" / f"dialogue-{number % 2}{settings.format.extension}"
        path.parent.mkdir(exist_ok=True)
        self.answers.export_choice = ExportChoice(settings, path, False, True, None)
        (paths,) = self._timed("export", lambda: wait_for(studio.exports.exported, studio.window.actions.export.trigger,
                                                          what="the export"))
        heard = DialogueAudio().of(studio.dialogue)
        wanted = len(heard.samples) / heard.sample_rate
        got = decoded_seconds(path) if path in paths and path.is_file() else 0.0
        if abs(got - wanted) > 0.1 + 0.02 * wanted or not path.with_suffix(".srt").is_file():
            cycle.problems.append(f"the export {path.name} decodes to {got:.2f} s of {wanted:.2f} s")
        else:
            cycle.export_checked = True

    def _save(self, number: int, cycle: Cycle) -> None:
        target = self.folder / "saved" / f"Rain-{number % 2}.diastudio"
        if not self._timed("save", lambda: self.studio.save_as(target)):
            cycle.problems.append("the project was not saved")
        elif content_of(open_project(target)) != content_of(self.studio.dialogue):
            cycle.problems.append("the saved project opens with other lines or takes")
        else:
            cycle.save_checked, cycle.saved_to = True, str(target)
