"""Fixtures of the window tests: a studio on temporary folders, with a fake sound system, scripted
answers to its questions, and runtimes (the tiny real one, or a fake one the test steers)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings, QTimer

from app.controller import StudioController
from app.settings import Settings, WindowLayout
from core.dia2.events import AudioChunk, Progress, TakeResult, TakeStarted, WordTiming
from core.dia2.script import BREAK_TAG
from core.dia2.transcript_alignment import TimedWord
from core.document.speakers import Speaker
from core.engine.choice import EngineChoice, open_engine
from core.engine.engine import EngineFailed, EngineKind
from core.engine.in_process import InProcessEngine
from tests.fake_sound_card import FakeBackend

VOICES = Path(__file__).resolve().parents[1] / "fixtures" / "voices"
SPEAKER1_WAV = VOICES / "speaker1_24k_mono.wav"
SPEAKER1_TEXT = ("Hello there. This is the first speaker, talking for a few seconds so the studio "
                 "can learn my voice.")
TINY_CHECKPOINT = Path(__file__).resolve().parents[1] / "fixtures" / "dia2_parity" / "checkpoint"


class ScriptedPrompts:
    """Answers the studio's questions as the test says, and notes what was asked."""

    def __init__(self):
        self.answers: dict[str, object] = {"save_changes": "discard", "recover": "keep"}
        self.asked: list[tuple[str, tuple]] = []

    def _answer(self, question: str, *details):
        self.asked.append((question, details))
        return self.answers.get(question)

    def save_changes(self, name):
        return self._answer("save_changes", name)

    def recover(self, description):
        return self._answer("recover", description)

    def error(self, title, message):
        self._answer("error", title, message)

    def open_project_path(self, folder):
        return self._answer("open_project_path", folder)

    def save_project_path(self, suggested):
        return self._answer("save_project_path", suggested)

    def pause_markup(self):
        return self._answer("pause_markup")

    def export(self, initial, summary, selection=(), planned=None):
        return self._answer("export", initial, summary, selection, planned)

    def errors(self) -> list[tuple]:
        return [details for question, details in self.asked if question == "error"]


class WordsTranscriber:
    """Speech recognition that "hears" given words spread over the clip: the explicit words the
    tests supply, since Whisper's weights are not available offline."""

    def __init__(self, text: str):
        self.text = text
        self.calls = 0

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> list[TimedWord]:
        self.calls += 1
        tokens = self.text.split()
        step = len(audio) / sample_rate / len(tokens)
        return [TimedWord(token, i * step, (i + 0.8) * step) for i, token in enumerate(tokens)]


class FakeRuntime:
    """Behind the runtime's interface: a take is one 80 ms chunk of tone per word. With
    ``hold_after`` it stops after that many words until ``release`` (or cancel) is set, so a test
    can act while a generation is surely running."""

    sample_rate = 24000
    frame_rate = 12.5
    chunk_s = 0.08
    name = "fake"
    device = torch.device("cpu")
    dtype = torch.float32
    precision = "float32"
    generates_on = "cpu"
    weights_bytes = 8

    def __init__(self, hold_after: int | None = None):
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.release = threading.Event()
        self.requests = []

    def release_memory(self) -> None:
        pass

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        return torch.zeros((32, max(1, len(samples) // 1920)), dtype=torch.long)

    def generate(self, request, cancel):
        self.requests.append(request)
        params = request.params.with_seed()
        words = [word for piece in BREAK_TAG.split(request.script)[::2] for word in piece.split()
                 if word not in ("[S1]", "[S2]")]
        tone = (0.2 * np.sin(np.arange(round(self.chunk_s * self.sample_rate)) * 0.05)).astype(np.float32)
        for take, seed in enumerate(params.take_seeds()):
            yield TakeStarted(take, seed)
            done: list[np.ndarray] = []
            timings = []
            for index, word in enumerate(words):
                if take == 0 and index == self.hold_after:
                    self.holding.set()
                    while not (self.release.wait(0.01) or cancel.is_set()):
                        pass
                if cancel.is_set():
                    break
                start = index * self.chunk_s
                timings.append((word, start))
                yield WordTiming(take, word, start)
                yield AudioChunk(take, tone, start)
                done.append(tone)
                yield Progress(take, index + 1, start + self.chunk_s, 0.01 * (index + 1))
            audio = np.concatenate(done) if done else np.zeros(0, np.float32)
            complete = not cancel.is_set()
            yield TakeResult(take, seed, params.with_seed(seed), audio, self.sample_rate,
                             np.zeros((32, len(done)), np.int64), timings, complete)
            if not complete:
                return


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def sound() -> FakeBackend:
    """A sound system running four times faster than real time, so playback tests are quick."""
    return FakeBackend(speed=4.0)


# The engine whose process a test module's studios share. Named by its value: the pool starts
# nothing by itself (only a test that asks for this engine does, and that test is marked "process"
# by its own code), and tests/cost_markers.py marks every test whose fixtures name the engine.
SHARED_KIND = EngineKind("own-process")
BUSY_WAIT_S = 5.0  # how long a hand-out waits for the test before to let go of the engine


class SharedEngines:
    """One model process for a test module's studios instead of a cold one per test: the studios
    open their own-process engine here (``open``, in place of ``open_engine``), and closing it
    gives it back with its child still running. Each studio gets it as a fresh engine is: no model
    loaded (the child keeps its runtime until the test's load replaces it), no call or live take
    running, a child alive and answering. One the test before left busy (a call or a live take
    still holding it) or unclean (unread messages on its pipe) is closed, and a new engine opened;
    a child killed or crashed is replaced by the engine itself at the hand-out's check. A second
    studio asking while the engine is lent (the app started again) gets an engine of its own."""

    def __init__(self):
        self._lock = threading.Lock()
        self._engine = None  # the shared one, when opened
        self._threads = None
        self._lent = False
        self.opened = 0  # shared engines opened in the module

    def open(self, choice: EngineChoice, on_speech_model_load=None, speech_model=None, threads=None,
             warm_voices_bytes=None):
        """As ``open_engine``; the shared model process keeps the voices warm by its own bound."""
        with self._lock:
            shared = choice.kind is SHARED_KIND and not self._lent
            if shared:
                self._lent = True
        if not shared:
            return open_engine(choice, on_speech_model_load, speech_model, threads, warm_voices_bytes)
        try:
            engine = self._ready(threads)
        except BaseException:
            with self._lock:
                self._lent = False
            raise
        engine._on_speech_model_load = on_speech_model_load
        engine.speech_model = speech_model
        return LentEngine(engine, self)

    def _ready(self, threads):
        """The shared engine as a fresh one is (see the class's docstring)."""
        engine = self._engine
        if engine is not None and (threads != self._threads or not self._reset(engine)):
            engine.close()  # a child still in a call is killed, as a studio quitting mid-call does
            engine = None
        if engine is not None:
            try:
                engine.release_memory()  # a round trip: a child that died since is replaced, without a model
            except Exception:
                engine.close()
                engine = None
        if engine is None:
            engine = open_engine(EngineChoice(SHARED_KIND), threads=threads)
            self._engine, self._threads = engine, threads
            self.opened += 1
        return engine

    @staticmethod
    def _reset(engine) -> bool:
        """No model loaded, nothing pending; False when the engine is still busy or its pipe unclean."""
        if not engine._calls.acquire(timeout=BUSY_WAIT_S):  # a call or a live take holds it
            return False
        try:
            connection, process = engine._connection, engine._process
            if connection is not None and connection.poll():  # something to read, or the end of a dead child's pipe
                process.join(1.0)
                if process.is_alive():
                    return False  # it sent what nobody read: the pipe is not at a call's start
            engine._info, engine._loaded_with = None, None
            engine._relay, engine._cancel_forwarded = None, False
            return True
        finally:
            engine._calls.release()

    def give_back(self, engine) -> None:
        """A studio closed it: it keeps running for the next test, none of the studio's callbacks
        kept; a studio closing while a call runs ends the child (as ``close`` does) and the engine
        is not lent again."""
        engine._on_speech_model_load = None
        if engine._calls.acquire(blocking=False):
            try:
                engine._loaded_with = None if engine._loaded_with is None else (*engine._loaded_with[:3], None)
            finally:
                engine._calls.release()
        else:
            engine.close()
            with self._lock:
                if self._engine is engine:
                    self._engine = None
        with self._lock:
            self._lent = False

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


class LentEngine:
    """The shared engine as one studio holds it: everything is the engine's, except ``close``
    (it gives the engine back) and what a test sets on it (a wrapped ``generate``: gone with the
    test). Once closed, its work is refused: a late call from a studio's thread never reaches
    the next test's engine."""

    _WORK = frozenset({"load", "unload", "parse", "encode_voice", "transcribe", "generate", "open_live_take",
                       "release_memory"})

    def __init__(self, engine, pool: SharedEngines):
        self._engine, self._pool, self._closed = engine, pool, False

    @property
    def speech_model(self):
        return self._engine.speech_model

    @speech_model.setter
    def speech_model(self, value) -> None:
        if not self._closed:
            self._engine.speech_model = value

    def __getattr__(self, name: str):
        if name in self._WORK and self.__dict__.get("_closed"):
            raise EngineFailed("This studio's engine was closed.")
        return getattr(self.__dict__["_engine"], name)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.give_back(self._engine)


@pytest.fixture(scope="module")
def shared_engines():
    """The model process a module's studios share (started by the first that loads a model there)."""
    engines = SharedEngines()
    yield engines
    engines.close()


@pytest.fixture
def make_studio(qtbot, tmp_path, prompts, sound, shared_engines, monkeypatch):
    """Build studios on the same folders (a second one is the app started again). A studio whose
    model runs in its own process shares that process with the module's other tests."""
    monkeypatch.setattr("app.controller.open_engine", shared_engines.open)
    # Whisper's models are looked for here (none, unless a test puts one): the checks hear lines
    # only with a model on disk.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store_path = tmp_path / "settings.ini"
    config_dir = tmp_path / "config"
    made = []

    def make(transcriber=None, backend=None, start=True, first_start_done=True,
             model_loader=None, engine: EngineKind | None = EngineKind.IN_PROCESS) -> StudioController:
        """``engine``: where the model runs (None: where the settings say)."""
        store = QSettings(str(store_path), QSettings.Format.IniFormat)
        settings = Settings(store)
        if first_start_done and not made:
            settings.first_start_done = True
        studio = StudioController(settings, WindowLayout(store), config_dir, backend or sound,
                                  transcriber=transcriber or WordsTranscriber(SPEAKER1_TEXT),
                                  model_loader=model_loader,
                                  engine=EngineChoice(engine) if engine else None)
        studio.prompts = prompts
        qtbot.addWidget(studio.window)
        if start:
            studio.start()
        made.append(studio)
        return studio

    yield make
    for studio in made:
        if studio.generation.is_running:
            studio.generation.cancel()
            with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
                pass
        studio.playback.stop()
        studio.take_checking.stop()
        studio.document.autosave_timer.stop()
        studio.models.close()  # an engine's own process ends with its test (a shared one is given back)


@pytest.fixture
def studio(make_studio) -> StudioController:
    return make_studio()


# The engines the window's generation tests run against (the remote one against a real serve).
ENGINE_KINDS = [EngineKind.IN_PROCESS, EngineKind.OWN_PROCESS, EngineKind.REMOTE]


@pytest.fixture(params=ENGINE_KINDS, ids=lambda kind: kind.value)
def engine_kind(request) -> EngineKind:
    return request.param


@pytest.fixture
def engine_studio(request, make_studio, engine_kind) -> StudioController:
    """A studio whose model runs on each kind of engine in turn; remote: on a real
    ``dia-studio serve`` on loopback, chosen as the model manager chooses it."""
    if engine_kind is not EngineKind.REMOTE:
        return make_studio(engine=engine_kind)
    from tests.service.remote_engine import KEY

    server = request.getfixturevalue("remote_engine_server")
    studio = make_studio(engine=EngineKind.IN_PROCESS)
    assert studio.model_controls.choose_engine(engine_kind.value, server.url, KEY)
    return studio


def use_runtime(studio: StudioController, runtime) -> None:
    """Give the studio ``runtime`` as its loaded model at once, in its own process."""
    engine = InProcessEngine(lambda *args, **kwargs: runtime)
    studio.models.engine, studio.models.model, studio.models.info = engine, "fake", engine.load("fake")


@pytest.fixture
def transcriber() -> WordsTranscriber:
    return WordsTranscriber(SPEAKER1_TEXT)


@pytest.fixture
def voiced(make_studio, transcriber, qtbot):
    """A studio whose speaker 1 has the fixture voice (its words spread evenly over the clip)."""
    studio = make_studio(transcriber=transcriber)
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    return studio


def write_dialogue(studio: StudioController, *lines: tuple[Speaker, str]) -> list[str]:
    """Put these lines in the studio's document; returns their ids."""
    dialogue = studio.dialogue
    return [dialogue.add_line(speaker, text).id for speaker, text in lines]


def press(qtbot, action) -> None:
    """Trigger a command, which the window must already have enabled (Undo and Redo follow the
    undo stack at once)."""
    assert action.isEnabled(), f"{action.text()!r} is disabled"
    action.trigger()


def generate_past_a_failure(studio: StudioController, qtbot, failed: list) -> list:
    """Generate to the end while a heartbeat checks the GUI thread: returns the ``finished``
    signal's arguments once the thread has turned ten more times after ``failed`` (filled by the
    test when it breaks the engine) became non-empty, so the window still responds after it."""
    beats = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(len(failed)))
    heartbeat.start()
    with qtbot.waitSignal(studio.generation.finished, timeout=60_000) as finished:
        assert studio.generate()
    qtbot.waitUntil(lambda: beats.count(1) > 10)
    heartbeat.stop()
    return finished.args
