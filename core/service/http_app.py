"""The HTTP face of the task API: a thin FastAPI app over TaskService.

- ``POST /v1``: a JSON array of tasks → ``{"data": [...], "errors": [...]}``.
- ``GET /v1/media/<audioUUID>.<ext>``: a result handed out as a URL, until its ttl is over.
- ``/v1/engine`` (WebSocket): the model as a remote studio's engine (``engine_endpoint``).
- ``GET /health``: 503 while the model loads, 200 once it can generate (a readiness probe).

The body is read with a size limit before it is parsed; nothing from a request ever becomes a
file path (media are looked up by their audioUUID in the store).
"""

from __future__ import annotations

import json
import re
import time

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from core.audio.formats import format_from_path
from core.engine.wire import PATH as ENGINE_PATH
from core.service.api_errors import ApiError
from core.service.engine_endpoint import EngineSession
from core.service.openapi_schema import TASKS_BODY
from core.service.responses import MEDIA_PATH, MIME_TYPES, STORED_PATH
from core.service.task_service import TaskService
from core.service.ws_session import SessionRegistry, WsSession

MAX_BODY_BYTES = 4 * 1024 * 1024  # tasks only; voice uploads will raise this with their own limit
_MEDIA_NAME = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})(\.[a-z0-9]{2,5})")


# When every task of a request failed, the first one's status answers (the error items say why).
_ERROR_RESPONSES = {status: {"description": what} for status, what in (
    (400, "a malformed body or an invalid task"), (401, "invalidApiKey"), (404, "taskFailedOrNotFound"),
    (409, "conflictTaskUUID"), (413, "requestTooLarge"), (429, "queueCapacityExceeded"),
    (500, "the task failed in the model (inferenceError)"), (503, "modelUnavailable"))}


def create_app(service: TaskService) -> FastAPI:
    app = FastAPI(title="Dia Studio task API", description="The hosted Dia2 audioInference API, served locally.")
    sessions = SessionRegistry()

    @app.get("/health", responses={503: {"description": "the model is loading, or failed to load (reason given)"}})
    def health() -> JSONResponse:
        if service.ready:
            return JSONResponse({"status": "ready"})
        if service.runner.load_error:
            return JSONResponse({"status": "failed", "reason": service.runner.load_error}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503)

    @app.post("/v1", openapi_extra={"requestBody": TASKS_BODY}, responses=_ERROR_RESPONSES)
    async def tasks(request: Request) -> JSONResponse:
        try:
            body = json.loads(await _read_limited(request))
        except ApiError as error:
            return JSONResponse({"errors": [error.item()]}, status_code=error.http_status)
        except (ValueError, UnicodeDecodeError) as error:
            error = ApiError("invalidRequestBody", f"The request body is not valid JSON ({error}).")
            return JSONResponse({"errors": [error.item()]}, status_code=400)
        answer = await service.handle(body, _bearer(request), str(request.base_url))
        return JSONResponse(answer.envelope(), status_code=answer.status)

    @app.websocket("/v1")
    async def tasks_over_websocket(socket: WebSocket) -> None:
        await socket.accept()
        await WsSession(service, sessions, _SocketAdapter(socket), str(socket.base_url)).run()

    @app.websocket(ENGINE_PATH)
    async def engine(socket: WebSocket) -> None:
        """A studio generating on this server's model (``core.engine.remote``)."""
        await socket.accept()
        await EngineSession(service, socket).run()

    @app.get(MEDIA_PATH + "{name}", responses={404: {"description": "no such result, or its ttl is over"}})
    def media(name: str) -> Response:
        match = _MEDIA_NAME.fullmatch(name)
        result = service.store.result_by_audio(match.group(1)) if match else None
        try:
            if result is None or result.file != name or result.expires <= time.time():
                raise FileNotFoundError(name)
            content = service.store.read_media(result)
        except FileNotFoundError:
            return JSONResponse({"errors": [ApiError("mediaNotFound", "No such result here (never made, or its ttl "
                                                     "is over).").item()]}, status_code=404)
        return Response(content, media_type=MIME_TYPES[format_from_path(name)])

    @app.get(STORED_PATH + "{name}", responses={404: {"description": "no such stored media"}})
    def stored(name: str) -> Response:
        match = _MEDIA_NAME.fullmatch(name)
        media = service.store.media(match.group(1)) if match else None
        try:
            if media is None or media.file != name:
                raise FileNotFoundError(name)
            content = service.store.read_stored(media)
        except FileNotFoundError:
            return JSONResponse({"errors": [ApiError("mediaNotFound", "No such stored media here (never "
                                                     "uploaded, or deleted).").item()]}, status_code=404)
        return Response(content, media_type="application/octet-stream")

    return app


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError("requestTooLarge", f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB.",
                    http_status=413)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _SocketAdapter:
    """Starlette's WebSocket as the session sees a socket: a gone peer is a ConnectionError."""

    def __init__(self, socket: WebSocket):
        self.socket = socket

    async def receive_text(self) -> str:
        try:
            return await self.socket.receive_text()
        except WebSocketDisconnect as error:
            raise ConnectionError("the client left") from error

    async def send_text(self, text: str) -> None:
        try:
            await self.socket.send_text(text)
        except (WebSocketDisconnect, RuntimeError) as error:
            raise ConnectionError("the client left") from error

    async def close(self) -> None:
        await self.socket.close()
