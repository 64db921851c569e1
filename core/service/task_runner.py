"""Runs the queued audioInference tasks on the model, in the order they came.

The model's caches serve one generation at a time, so one thread takes the oldest queued task
from the store, renders its takes and stores each finished take as soon as it is encoded (a
getResponse sees the first of four results while the second is being made). The model is an
engine (``core.engine.engine.Engine``): the in-process engine of ``dia-studio serve``, or on a
cluster (``app.cluster``) a pool of replicas, where ``workers`` threads run that many tasks at
once. Each task runs as it was validated on arrival (``tasks``), never parsed again. Waiters
(a sync request, a getResponse) read the store; ``changes`` tells them when to look again.

A task whose generation was lost with the process making it (``EngineFailed``: a replica that
died) goes back to the front of the queue, its finished results kept, and is failed only when
it has been lost ``MAX_LOSSES`` times.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from core.audio.export import encode_audio
from core.audio.tags import ExportMetadata, as_made
from core.dia2.events import GenerationRequest, TakeResult
from core.engine.engine import EngineFailed
from core.errors import describe_error
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import respell
from core.service.api_errors import ApiError
from core.service.model_turn import TASK, ModelTurn
from core.service.protocol import AudioInferenceTask
from core.service.task_changes import TaskChanges
from core.service.task_store import StoredTask, TaskStore
from core.service.validated_tasks import ValidatedTasks
from core.service.wakeable_thread import WakeableThread

if TYPE_CHECKING:
    from core.engine.engine import Engine

log = logging.getLogger("dia_studio.service")

DEFAULT_KEEP_S = 24 * 3600  # how long a result stays when the task gave no ttl
MAX_LOSSES = 3  # a task whose generation dies this often is failed (it may be what kills it)
EXPIRY_SWEEP_S = 1.0  # how often expired results are removed (by whichever worker is idle)


class TaskRunner(WakeableThread):
    def __init__(self, store: TaskStore, *, cost_per_minute: float = 0.0, transcriber=None, workers: int = 1):
        """``transcriber``: what hears voices given without words, anything with
        ``transcribe(samples, sample_rate)`` (a server gives its engine; None: such voices are
        refused with a clear error). ``workers``: generations the engine runs at once."""
        super().__init__("task-runner", threads=workers)
        self.store = store
        self.cost_per_minute = cost_per_minute
        self.transcriber = transcriber
        self.lexicon = Lexicon()  # how the scripts' words are read (serve --lexicon)
        self.on_result = lambda task, result: None  # called with each result once it is stored
        self.engine: Engine | None = None  # set by ``model_ready`` once the model has loaded
        self.tasks = ValidatedTasks()  # the service keeps each task it queues here
        self.turn = ModelTurn(workers)  # shared with the studios generating over /v1/engine
        self.load_error: str | None = None  # why the model could not be loaded, if it could not
        self.changes = TaskChanges()
        self._losses: dict[str, int] = {}  # task → how often its generation was lost
        self.clock = time.monotonic
        self._next_sweep = 0.0

    # ---- control ------------------------------------------------------------------------------
    def start(self) -> None:
        interrupted = self.store.requeue_interrupted()
        if interrupted:
            log.info("re-running %d task(s) interrupted by the last stop: %s", len(interrupted),
                     ", ".join(interrupted))
        super().start()

    def model_ready(self, engine: Engine) -> None:
        """``engine``, its model loaded, runs the tasks from now on."""
        self.engine = engine
        self.wake()

    def model_failed(self, reason: str) -> None:
        self.load_error = reason
        self.changes.touch_all()  # every waiting request answers modelUnavailable now
        self.wake()

    def version(self, task_uuid: str) -> int:
        """Changes whenever what is known of the task changes (see ``touch``)."""
        return self.changes.version(task_uuid)

    # ---- the loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (self.engine is None or self.store.next_queued() is None):
                    self._wake.wait(timeout=EXPIRY_SWEEP_S)
                    self._sweep_expired()
                if self._stopping:
                    return
            if not self.turn.take_for_task(lambda: self._stopping):
                return
            task = None
            try:
                task = self.store.claim_next_queued()  # None: another worker took it meanwhile
                if task is not None:
                    self._run_task(task)
            except Exception:  # a fault of ours (a full disk, a bug): never the end of the runner
                log.exception("task %s could not be run", task.task_uuid if task else "(claiming one)")
                if task is not None:
                    self._fail_quietly(task)
            finally:
                self.turn.give_back(TASK)

    def _sweep_expired(self) -> None:
        """Under ``_wake``: once a sweep interval, however many workers wait."""
        now = self.clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + EXPIRY_SWEEP_S
        self.results_expired(self.store.expire())

    def results_expired(self, task_uuids: list[str]) -> None:
        """These tasks lost results to their ttl: what is known of them changed; one left with no
        result changes no more."""
        for task_uuid in task_uuids:
            self.touch(task_uuid)
            stored = self.store.task(task_uuid)
            if stored is not None and stored.status == "done" and not self.store.results(task_uuid):
                self.changes.forget(task_uuid)

    def _fail_quietly(self, stored: StoredTask) -> None:
        try:
            self._settle(stored, "failed", ApiError("serverError", "The server failed while running this task; "
                                                    "see its log.", task_type="audioInference",
                                                    task_uuid=stored.task_uuid).item())
        except Exception:  # the store itself fails (e.g. the disk is full): try again later
            log.exception("task %s could not be marked failed", stored.task_uuid)
            time.sleep(1.0)

    def _run_task(self, stored: StoredTask) -> None:
        started = time.monotonic()
        try:
            self._render(self.tasks.of(stored), stored)
        except ApiError as error:
            self._settle(stored, "failed", error.for_task("audioInference", stored.task_uuid).item(), started)
        except EngineFailed as error:
            self._lost(stored, error, started)
        except Exception as error:  # the model failed: the task says why, the server goes on
            log.exception("task %s failed", stored.task_uuid)
            self._settle(stored, "failed", ApiError("inferenceError", describe_error(error, "The generation failed"),
                                                    task_type="audioInference", task_uuid=stored.task_uuid).item(),
                         started)
        else:
            self._settle(stored, "done", started=started)

    def _lost(self, stored: StoredTask, error: EngineFailed, started: float) -> None:
        losses = self._losses[stored.task_uuid] = self._losses.get(stored.task_uuid, 0) + 1
        if losses < MAX_LOSSES:
            log.warning("task %s: its generation was lost (%s); it runs again", stored.task_uuid,
                        describe_error(error))
            self.store.set_status(stored.task_uuid, "queued")  # at its place: the front of the queue
            _log_end(stored.task_uuid, "queued", started)
            self.touch(stored.task_uuid)
            self.wake()
            return
        self._settle(stored, "failed", ApiError(
            "inferenceError", f"The generation was lost {losses} times, the last time: {describe_error(error)}",
            task_type="audioInference", task_uuid=stored.task_uuid).item(), started)

    def _render(self, task: AudioInferenceTask, stored: StoredTask) -> None:
        params = task.params
        done = len(self.store.results(stored.task_uuid))  # kept from before a crash
        if done >= params.number_results:
            return
        remaining = replace(params, seed=params.take_seeds()[done], number_results=params.number_results - done)
        keep_s = task.ttl_s if task.ttl_s is not None else DEFAULT_KEEP_S
        take_started = time.monotonic()
        voices = tuple(self.voice_prompt(media_uuid, index) for index, media_uuid in enumerate(stored.voices))
        script = respell(task.script, self.lexicon).spoken  # results are audio: no words to map back
        for event in self.engine.generate(GenerationRequest(script, remaining, voices, takes_only=True)):
            # A take cut short (its replica lost) is no result: the task runs again from it.
            if not isinstance(event, TakeResult) or not event.complete:
                continue
            metadata = ExportMetadata(title=" ".join(task.script.split()[:12]), speakers=("S1", "S2"),
                                      seed=event.seed, parameters=as_made(event.params.to_dict(), event.model))
            content = encode_audio(event.audio, task.export, metadata)
            compute_s = time.monotonic() - take_started
            result = self.store.add_result(stored.task_uuid, done + event.take, event.seed,
                                           task.export.format.extension, content,
                                           len(event.audio) / event.sample_rate, compute_s, keep_s)
            self.on_result(task, result)
            self.touch(stored.task_uuid)
            take_started = time.monotonic()

    def voice_prompt(self, media_uuid: str, index: int):
        """A stored voice → its prompt; Whisper runs only the first time a voice is used, and
        its words are kept on the stored entry (timed against the file, as a word list is)."""
        from core.audio.io import load_voice_clip
        from core.dia2.transcript_alignment import TimedWord
        from core.dia2.voices import prepare_voice

        parameter = f"inputs.audios[{index}]"
        media = self.store.media(media_uuid)
        if media is None:
            raise ApiError("invalidInputsAudios", f"{parameter}: the stored voice {media_uuid} was deleted before "
                           "the task ran.", parameter=parameter)
        clip = load_voice_clip(self.store.read_stored(media))
        if media.words is None:
            if self.transcriber is None:
                raise ApiError("invalidInputsAudios", f"{parameter}: the voice has no words yet and this server "
                               "has no Whisper model to transcribe it (start it with --whisper-model).",
                               parameter=parameter)
            heard = self.transcriber.transcribe(clip.samples, clip.sample_rate)
            words = [TimedWord(w.text, w.start_s + clip.start_s, w.end_s + clip.start_s) for w in heard]
            self.store.set_media_words(media_uuid, [[w.text, w.start_s, w.end_s] for w in words])
            log.info("voice %s transcribed: %s", media_uuid, " ".join(w.text for w in words))
        else:
            words = [TimedWord(text, start, end) for text, start, end in media.words]
        return prepare_voice(self.engine, clip, words=words).prompt  # encoded on the engine

    def _settle(self, stored: StoredTask, status: str, error: dict | None = None,
                started: float | None = None) -> None:
        self._losses.pop(stored.task_uuid, None)
        self.store.set_status(stored.task_uuid, status, error)
        self.tasks.settled(stored.task_uuid)
        if started is not None:  # logged before the waiters wake: a task's answer comes after its log line
            _log_end(stored.task_uuid, status, started)
        self.touch(stored.task_uuid)

    def touch(self, task_uuid: str) -> None:
        """Note that what is known of the task changed (a result, its end, an expiry, a delivery)."""
        self.changes.touch(task_uuid)


def _log_end(task_uuid: str, status: str, started: float) -> None:
    log.info("task %s %s in %.1f s", task_uuid, status, time.monotonic() - started)
