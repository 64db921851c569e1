"""The task API over a WebSocket (seed-api.md §1, §11): every message is a JSON array of tasks.

- The first message authenticates (``authentication`` with ``apiKey``); the answer carries a
  ``connectionSessionUUID``, which the SDKs require.
- Tasks in a message run side by side, so a ping is answered at once while a generation runs.
  A sync audioInference sends one frame per finished result; an async one is acknowledged in one
  frame and polled with getResponse. Errors come as ``{"errors": [...]}`` frames.
- Resume: authenticating again with the old ``connectionSessionUUID`` within
  ``RESUME_WINDOW_S`` sends what the session's sync tasks finished while it was away, then the
  rest as it comes.
- A connection silent for ``IDLE_TIMEOUT_S`` is closed, as the hosted service does.

Transport-neutral: ``socket`` needs only ``receive_text``, ``send_text`` and ``close``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field

from core.service.api_errors import ApiError
from core.service.protocol import (AudioInferenceTask, AuthenticationTask, GetResponseTask, MediaStorageTask,
                                   PingTask, parse_request)
from core.service.responses import ack_item, authenticated_item, pong_item
from core.service.task_service import TaskService

log = logging.getLogger("dia_studio.service")

IDLE_TIMEOUT_S = 120.0
RESUME_WINDOW_S = 120.0


@dataclass
class SessionState:
    """What a session still owes its client: sync tasks not fully delivered."""

    pending: set[str] = field(default_factory=set)
    delivered: set[str] = field(default_factory=set)  # audioUUIDs already sent
    left_at: float | None = None


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, SessionState] = {}

    def open(self, session_uuid: str | None) -> tuple[str, SessionState]:
        now = time.monotonic()
        for key in [k for k, s in self._sessions.items() if s.left_at and now - s.left_at > RESUME_WINDOW_S]:
            del self._sessions[key]
        if session_uuid and session_uuid in self._sessions:
            state = self._sessions[session_uuid]
            state.left_at = None
            return session_uuid, state
        session_uuid = str(uuid.uuid4())
        self._sessions[session_uuid] = state = SessionState()
        return session_uuid, state


class WsSession:
    def __init__(self, service: TaskService, registry: SessionRegistry, socket, base_url):
        self.service = service
        self.registry = registry
        self.socket = socket
        self.base_url = base_url
        self.session_uuid: str | None = None
        self.state: SessionState | None = None
        self._send_lock = asyncio.Lock()
        self._running: set[asyncio.Task] = set()

    async def run(self) -> None:
        try:
            if not await self._authenticate():
                return
            while True:
                message = await asyncio.wait_for(self.socket.receive_text(), IDLE_TIMEOUT_S)
                self._spawn(self._message(message))
        except (asyncio.TimeoutError, ConnectionError):
            await self._close_quietly()
        finally:
            for task in self._running:
                task.cancel()
            if self.state is not None:
                self.state.left_at = time.monotonic()

    async def _authenticate(self) -> bool:
        message = await asyncio.wait_for(self.socket.receive_text(), IDLE_TIMEOUT_S)
        try:
            tasks = parse_request(json.loads(message))
        except (ValueError, ApiError):
            tasks = []
        first = tasks[0] if tasks else None
        if not isinstance(first, AuthenticationTask) or not self.service.key_is_valid(first.api_key):
            error = ApiError("invalidApiKey", "Authenticate first: send [{\"taskType\": \"authentication\", "
                             "\"apiKey\": \"…\"}] with a valid key.", parameter="apiKey", task_type="authentication")
            await self._send({"errors": [error.item()]})
            await self._close_quietly()
            return False
        self.session_uuid, self.state = self.registry.open(first.session_uuid)
        await self._send({"data": [authenticated_item(self.session_uuid)]})
        for task_uuid in list(self.state.pending):  # a resumed session: catch up, then go on
            self._spawn(self._deliver(task_uuid))
        for task in tasks[1:]:
            self._spawn(self._task(task))
        return True

    async def _message(self, message: str) -> None:
        try:
            tasks = parse_request(json.loads(message))
        except ValueError as error:
            await self._error(ApiError("invalidRequestBody", f"The message is not valid JSON ({error})."))
            return
        except ApiError as error:
            await self._error(error)
            return
        for task in tasks:
            self._spawn(self._task(task))

    async def _task(self, task) -> None:
        try:
            if isinstance(task, ApiError):
                raise task
            if isinstance(task, PingTask):
                await self._send({"data": [pong_item(task)]})
            elif isinstance(task, AuthenticationTask):
                await self._send({"data": [authenticated_item(self.session_uuid)]})
            elif isinstance(task, GetResponseTask):
                await self._send({"data": self._once_per_session(self.service.items_of(task.task_uuid, self.base_url))})
            elif isinstance(task, MediaStorageTask):
                await self._send({"data": [await self.service.media_storage(task, self.base_url)]})
            elif isinstance(task, AudioInferenceTask):
                await self.service.submit(task, self.base_url)
                if task.delivery == "async":
                    await self._send({"data": [ack_item(task.task_uuid)]})
                else:
                    self.state.pending.add(task.task_uuid)
                    await self._deliver(task.task_uuid)
        except ApiError as error:
            await self._error(error)
        except ConnectionError:
            pass  # the client left; what it asked for goes on and waits for a resume
        except Exception:  # a bug of ours: the client hears of it, the session goes on
            log.exception("a WebSocket task failed")
            await self._error(ApiError("serverError", "The server failed on this task; see its log."))

    def _once_per_session(self, items: list[dict]) -> list[dict]:
        """A task's getResponse items with each finished result sent to this session once: the
        older runware SDK adds up the success items of every reply, so a result sent again came
        back twice. Until the last of the task's results has gone, one sent before is named as
        still to come (that SDK waits for an item with an audioUUID per result); once all have
        gone, a reply has them all again (another round of polling starts afresh)."""
        finished = [item for item in items if item.get("status") == "success"]
        if len(finished) == len(items) and all(item["audioUUID"] in self.state.delivered for item in finished):
            return items
        out = []
        for item in items:
            if item.get("status") == "success" and item["audioUUID"] in self.state.delivered:
                item = {key: item[key] for key in ("taskType", "taskUUID", "audioUUID", "resultIndex")} | {
                    "status": "processing"}
            elif item.get("status") == "success":
                self.state.delivered.add(item["audioUUID"])
            out.append(item)
        return out

    async def _deliver(self, task_uuid: str) -> None:
        try:
            async for item in self.service.results_as_they_come(task_uuid, self.base_url):
                if item["audioUUID"] not in self.state.delivered:
                    await self._send({"data": [item]})
                    self.state.delivered.add(item["audioUUID"])
        except ApiError as error:
            await self._error(error)
        except ConnectionError:
            return  # still pending: a resumed session gets the rest
        self.state.pending.discard(task_uuid)

    async def _error(self, error: ApiError) -> None:
        await self._send({"errors": [error.item()]})

    async def _send(self, frame: dict) -> None:
        async with self._send_lock:
            await self.socket.send_text(json.dumps(frame))

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _close_quietly(self) -> None:
        try:
            await self.socket.close()
        except Exception:  # already closed by the other side
            pass
