"""What the server does with a request's tasks, whatever carries them (HTTP now, WebSocket
next): authentication, ping, audioInference (sync or async), getResponse.

It answers in the API's envelope, ``{"data": [...], "errors": [...]}``, with each task's items
in ``data`` and each failed task's error in ``errors``; other tasks in the same request still run.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.lexicon.lexicon import Lexicon
from core.service.api_errors import ApiError
from core.service.clock import Clock
from core.service.protocol import (AudioInferenceTask, AuthenticationTask, GetResponseTask, MediaStorageTask,
                                   PingTask, Task, parse_request)
from core.service.responses import (ack_item, authenticated_item, failed_item, media_url_maker, pending_items,
                                    pong_item, result_item, upload_fields)
from core.service.safe_fetch import FetchError, check_destination
from core.service.task_runner import TaskRunner
from core.service.deliveries import GIVE_UP_S, Deliverer
from core.service.task_store import StoredResult, TaskStore
from core.service.voice_inputs import FetchPolicy, audio_bytes, check_voice, extension_of, keep_voice

ITEMS_CACHED = 1024  # tasks whose items are kept built
ITEMS_CACHED_BYTES = 16 * 2**20  # and at most this much audio in them (base64Data and dataURI results)


@dataclass
class Answer:
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def envelope(self) -> dict[str, Any]:
        out: dict[str, Any] = {"data": self.data}
        if self.errors:
            out["errors"] = self.errors
        return out


@dataclass
class ServiceConfig:
    api_keys: tuple[str, ...] = ()  # empty: no key needed (loopback only; serve refuses otherwise)
    queue_limit: int = 64
    cost_per_minute: float = 0.0
    served_models: tuple[str, ...] = ("runware:dia2@2b", "dia2-2b")
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    retry_deliveries_for_s: float = GIVE_UP_S
    live_idle_timeout_s: float = 20.0  # a live take whose text stops this long without an end is ended
    lexicon: Lexicon = Lexicon()  # serve --lexicon: how the words of every task and live take are read


class TaskService:
    def __init__(self, store: TaskStore, runner: TaskRunner, config: ServiceConfig, clock: Clock | None = None):
        """``clock``: the time the deliveries' retries wait on (the wall clock unless given)."""
        self.store = store
        self.runner = runner
        self.config = config
        runner.lexicon = config.lexicon
        self.deliverer = Deliverer(store, self.item_of_audio, self._delivery_changed,
                                   allow_private=config.fetch.allow_private, give_up_s=config.retry_deliveries_for_s,
                                   clock=clock)
        # getResponse is polled hard: a task's items are built once per change, not per call.
        self.built_items = BuiltItems()
        runner.on_result = self._result_stored

    def start(self) -> None:
        self.runner.start()
        self.deliverer.start()

    def stop(self) -> None:
        self.runner.stop()
        self.deliverer.stop()

    def _delivery_changed(self, audio_uuid: str) -> None:
        result = self.store.result_by_audio(audio_uuid)
        if result is not None:
            self.runner.touch(result.task_uuid)

    def _result_stored(self, task: AudioInferenceTask, result: StoredResult) -> None:
        self.deliverer.deliver(result.audio_uuid, task.webhook_url, task.upload_endpoint)

    @property
    def ready(self) -> bool:
        return self.runner.engine is not None

    def key_is_valid(self, key: str | None) -> bool:
        if not self.config.api_keys:
            return True
        # Every key is compared, in constant time, so the answer's timing tells nothing.
        matches = [hmac.compare_digest((key or "").encode(), known.encode()) for known in self.config.api_keys]
        return key is not None and any(matches)

    async def handle(self, body: Any, bearer: str | None, base_url) -> Answer:
        """``base_url``: this server as the client sees it (result URLs are made from it)."""
        answer = Answer()
        try:
            tasks = parse_request(body)
        except ApiError as error:
            return Answer(errors=[error.item()], status=error.http_status)
        key = bearer
        if tasks and isinstance(tasks[0], AuthenticationTask):
            key = tasks[0].api_key or key
        if not self.key_is_valid(key):
            error = ApiError("invalidApiKey", "Invalid API key: give the key as 'Authorization: Bearer <key>' "
                             "or in an authentication task first.", parameter="apiKey",
                             task_type="authentication", http_status=401)
            return Answer(errors=[error.item()], status=401)
        statuses = []
        # Every generation is queued before any is waited for: on a cluster they run side by side.
        refused = {id(task): error for task in tasks if isinstance(task, AudioInferenceTask)
                   and (error := await self._submitted(task, base_url)) is not None}
        for task in tasks:
            try:
                if id(task) in refused:
                    raise refused[id(task)]
                await self._one(task, answer, base_url)
            except ApiError as error:
                answer.errors.append(error.item())
                statuses.append(error.http_status)
        if not answer.data and statuses:
            answer.status = statuses[0]  # every task failed: the first one's status answers
        return answer

    async def _one(self, task: Task | ApiError, answer: Answer, base_url) -> None:
        if isinstance(task, ApiError):
            raise task
        if isinstance(task, AuthenticationTask):
            answer.data.append(authenticated_item(task.session_uuid or str(uuid.uuid4())))
        elif isinstance(task, PingTask):
            answer.data.append(pong_item(task))
        elif isinstance(task, GetResponseTask):
            answer.data.extend(self.items_of(task.task_uuid, base_url))
        elif isinstance(task, MediaStorageTask):
            answer.data.append(await self.media_storage(task, base_url))
        else:
            await self._infer(task, answer, base_url)

    async def _submitted(self, task: AudioInferenceTask, base_url) -> ApiError | None:
        try:
            await self.submit(task, base_url)
        except ApiError as error:
            return error
        return None

    async def _infer(self, task: AudioInferenceTask, answer: Answer, base_url) -> None:
        """A submitted task's answer: at once (async, webhook), or its results once settled."""
        if task.delivery == "async" or task.webhook_url:  # a webhook's submit is acknowledged at once
            answer.data.append(ack_item(task.task_uuid))
            return
        await self._wait_settled(task.task_uuid)  # raises the task's error if it failed
        answer.data.extend(self.items_of(task.task_uuid, base_url))

    async def media_storage(self, task: MediaStorageTask, base_url) -> dict[str, Any]:
        """Upload a voice (kept until deleted; its words once transcribed) or delete one."""
        item = {"taskType": "mediaStorage", "taskUUID": task.task_uuid, "operation": task.operation}
        try:
            if task.operation == "delete":
                if not isinstance(task.media, str) or not self.store.delete_media(task.media):
                    raise ApiError("invalidMedia", f"No stored media {task.media!r} to delete.", parameter="media",
                                   http_status=404)
                return item | {"mediaUUID": task.media}
            content = await asyncio.to_thread(audio_bytes, task.media, "media", self.config.fetch)
            check_voice(content, "media")
            media = self.store.store_media(content, extension_of(content))
        except ApiError as error:
            raise error.for_task("mediaStorage", task.task_uuid)
        return item | {"mediaUUID": media.media_uuid, "mediaURL": media_url_maker(base_url)(media.file, stored=True)}

    async def submit(self, task: AudioInferenceTask, base_url: str) -> None:
        """Check what only the server knows (its model, the script's words, where it may send
        results), then queue the task; a retried taskUUID with the same body is not queued again."""
        try:
            self.check_served(task.params.model)
        except ApiError as error:
            raise error.for_task("audioInference", task.task_uuid)
        if self.runner.load_error:
            raise self._unavailable(task.task_uuid)
        if self.ready:
            self._check_script(task)
        try:
            known = self.store.task(task.task_uuid)
            if known is None:  # names are resolved and voices fetched: off the event loop
                await asyncio.to_thread(self._check_deliveries, task)
                voices = await asyncio.to_thread(self._keep_voices, task)
            else:
                voices = known.voices
            if self.store.submit(task.task_uuid, task.body, task.params.to_dict(), task.params.number_results,
                                 self.config.queue_limit, voices, base_url):
                self.runner.tasks.keep(task)  # a retry's seed may differ: the first one's stays
        except ApiError as error:
            raise error.for_task("audioInference", task.task_uuid)
        self.runner.wake()

    def check_served(self, model: str) -> None:
        if model not in self.config.served_models:
            raise ApiError("invalidModel", f"model = {model!r} is not served here; this server runs "
                           + ", ".join(self.config.served_models) + ".", parameter="model",
                           extra={"allowedValues": list(self.config.served_models)})

    async def _changes(self, task_uuid: str):
        """The stored task each time what is known of it changes, until it settles."""
        seen: int | None = None  # none yet: versions may be negative (core.service.task_changes)
        with self.runner.changes.watching(task_uuid) as changed:
            while True:
                changed.clear()  # before reading: a change from here on wakes the wait below
                if self.runner.load_error:
                    raise self._unavailable(task_uuid)
                version = self.runner.version(task_uuid)
                if version != seen:
                    seen = version
                    stored = self.store.task(task_uuid)  # read before its items: results come before the end
                    yield stored
                    if stored.status in ("done", "failed"):
                        return
                    continue  # it may have changed again while the caller worked
                await changed.wait()

    async def results_as_they_come(self, task_uuid: str, base_url: str | None = None):
        """Each finished result item of a task once, as it is stored, until the task settles;
        raises the task's ApiError if it failed."""
        sent: set[str] = set()
        async for _ in self._changes(task_uuid):
            for item in self.items_of(task_uuid, base_url):
                if item["status"] == "success" and item["audioUUID"] not in sent:
                    sent.add(item["audioUUID"])
                    yield item
        self._raise_if_failed(task_uuid)

    def _raise_if_failed(self, task_uuid: str) -> None:
        stored = self.store.task(task_uuid)
        if stored.status == "failed":
            raise ApiError(**_error_fields(stored.error))

    def _unavailable(self, task_uuid: str) -> ApiError:
        # The task stays queued, for a server that has a model.
        return ApiError("modelUnavailable", f"The model could not be loaded: {self.runner.load_error}",
                        parameter="model", task_type="audioInference", task_uuid=task_uuid, http_status=503)

    def _check_deliveries(self, task: AudioInferenceTask) -> None:
        """A webhook or upload that could never be sent is refused now, not retried until
        --retry-deliveries-for runs out."""
        for name, code, url in (("webhookURL", "invalidWebhookURL", task.webhook_url),
                                ("uploadEndpoint", "invalidUploadEndpoint", task.upload_endpoint)):
            if url is None:
                continue
            try:
                check_destination(url, self.config.fetch.allow_private)
            except FetchError as error:
                raise ApiError(code, f"{name}: {error}", parameter=name) from None

    def _keep_voices(self, task: AudioInferenceTask) -> list[str]:
        return [keep_voice(self.store, value, f"inputs.audios[{index}]", self.config.fetch).media_uuid
                for index, value in enumerate(task.voices)]

    def _check_script(self, task: AudioInferenceTask) -> None:
        from core.dia2.script import UnspeakableScript

        try:
            self.runner.engine.parse(task.script)
        except UnspeakableScript as error:
            raise ApiError("invalidSpeechText", str(error), parameter="speech.text", task_type="audioInference",
                           task_uuid=task.task_uuid) from None

    async def _wait_settled(self, task_uuid: str) -> None:
        async for _ in self._changes(task_uuid):
            pass
        self._raise_if_failed(task_uuid)

    def item_of_audio(self, audio_uuid: str) -> dict[str, Any]:
        """One result's item, with URLs as its task's client saw the server (for webhooks)."""
        result = self.store.result_by_audio(audio_uuid)
        return next(item for item in self.items_of(result.task_uuid) if item.get("audioUUID") == audio_uuid)

    def items_of(self, task_uuid: str, base_url: str | None = None) -> list[dict[str, Any]]:
        """Everything known of a task: each finished result, then one processing item per
        result still to come, or the task's error (getResponse re-sends all of it each time)."""
        version = self.runner.version(task_uuid)
        items = self.built_items.get((task_uuid, base_url), version)
        if items is None:
            items = self._build_items(task_uuid, base_url)
            self.built_items.keep((task_uuid, base_url), version, items)
        return items

    def _build_items(self, task_uuid: str, base_url: str | None) -> list[dict[str, Any]]:
        stored = self.store.task(task_uuid)
        if stored is None:
            raise ApiError("taskFailedOrNotFound", f"No task {task_uuid} is known here (never sent, or its "
                           "results have expired).", parameter="taskUUID", task_type="getResponse",
                           task_uuid=task_uuid, http_status=404)
        if stored.status == "failed":
            return [failed_item(stored)]
        results = self.store.results(task_uuid)
        if stored.status == "done" and not results:  # every result's ttl is over: the task is gone too
            raise ApiError("taskFailedOrNotFound", f"The results of task {task_uuid} have expired (their ttl is "
                           "over).", parameter="taskUUID", task_type="getResponse", task_uuid=task_uuid,
                           http_status=404)
        task = self.runner.tasks.of(stored)
        url = media_url_maker(base_url or stored.base_url)
        items = []
        for result in results:
            content = None if task.output_type == "URL" else self.store.read_media(result)
            item = result_item(task, result, content, url(result.file), self.config.cost_per_minute)
            for delivery in self.store.deliveries_of(result.audio_uuid):
                if delivery.kind == "upload":
                    item |= upload_fields(delivery)
            items.append(item)
        return items + pending_items(stored, len(results))


class BuiltItems:
    """Tasks' items as last built, by (taskUUID, base URL) and the task's version when built;
    the oldest go first once there are more than ``tasks`` or they hold more than ``audio_bytes``
    of audio (a base64Data or dataURI result carries its whole file, so a count alone let a
    server keep a thousand tasks' files in memory)."""

    def __init__(self, tasks: int | None = None, audio_bytes: int | None = None):
        self.tasks = ITEMS_CACHED if tasks is None else tasks
        self.audio_bytes = ITEMS_CACHED_BYTES if audio_bytes is None else audio_bytes
        self.audio_bytes_held = 0
        self._built: dict[tuple[str, str | None], tuple[int, list[dict[str, Any]], int]] = {}
        self._lock = threading.Lock()  # the event loop and the deliveries' thread both ask

    def get(self, key: tuple[str, str | None], version: int) -> list[dict[str, Any]] | None:
        with self._lock:
            built = self._built.get(key)
        return built[1] if built is not None and built[0] == version else None

    def keep(self, key: tuple[str, str | None], version: int, items: list[dict[str, Any]]) -> None:
        size = sum(len(item.get("audioBase64Data", "")) + len(item.get("audioDataURI", "")) for item in items)
        with self._lock:
            self._forget(key)
            if size > self.audio_bytes:
                return  # built again at each call rather than crowding out every other task
            self._built[key] = (version, items, size)
            self.audio_bytes_held += size
            while len(self._built) > self.tasks or self.audio_bytes_held > self.audio_bytes:
                self._forget(next(iter(self._built)))  # the oldest

    def _forget(self, key: tuple[str, str | None]) -> None:
        built = self._built.pop(key, None)
        if built is not None:
            self.audio_bytes_held -= built[2]


def _error_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {"code": item["code"], "message": item["message"], "parameter": item.get("parameter"),
            "task_type": item.get("taskType"), "task_uuid": item.get("taskUUID"), "http_status": 500}

