"""Result items of the task API, as the hosted service and its SDKs shape them (seed-api.md §2–4).

A finished result: ``taskType``, ``taskUUID``, ``audioUUID``, ``status: "success"``, ``seed``,
one of ``audioURL`` / ``audioBase64Data`` / ``audioDataURI`` (by ``outputType``), ``cost`` when
asked. A result still being made: ``status: "processing"``. A failed task: ``status: "error"``
with the error both nested and flat (each SDK reads one of them). Success items never carry
``code`` or ``error`` keys: one SDK treats any item with them as an error.
"""

from __future__ import annotations

import base64
from typing import Any

from core.audio.formats import AudioFormat
from core.service.protocol import AudioInferenceTask
from core.service.task_store import StoredResult, StoredTask

MIME_TYPES = {AudioFormat.MP3: "audio/mpeg", AudioFormat.WAV: "audio/wav", AudioFormat.FLAC: "audio/flac",
              AudioFormat.OGG: "audio/ogg"}


MEDIA_PATH = "/v1/media/"  # results handed out as URLs
STORED_PATH = "/v1/stored/"  # mediaStorage uploads


def media_url_maker(base_url: str):
    """``url(name, stored=False)``: where the server at ``base_url`` serves a result (or a stored
    upload). A WebSocket client's base is given as http(s), where the files are served."""
    base = base_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")

    def url(name: str, stored: bool = False) -> str:
        return base + (STORED_PATH if stored else MEDIA_PATH) + name

    return url


def pong_item(ping) -> dict[str, Any]:
    """The answer to a ping, at once; its taskUUID only when the ping had one (§11)."""
    return {"taskType": "ping", "pong": True} | ({"taskUUID": ping.task_uuid} if ping.task_uuid else {})


def authenticated_item(session_uuid: str) -> dict[str, Any]:
    """The answer to an authentication: the SDKs refuse a session without its UUID."""
    return {"taskType": "authentication", "connectionSessionUUID": session_uuid}


def ack_item(task_uuid: str) -> dict[str, Any]:
    """The answer to an async submit: the task's identity only (no audioUUID, no status)."""
    return {"taskType": "audioInference", "taskUUID": task_uuid}


def result_item(task: AudioInferenceTask, result: StoredResult, content: bytes | None, media_url: str,
                cost_per_minute: float) -> dict[str, Any]:
    item: dict[str, Any] = {"taskType": "audioInference", "taskUUID": task.task_uuid,
                            "audioUUID": result.audio_uuid, "status": "success", "seed": result.seed,
                            "resultIndex": result.result_index}
    mime = MIME_TYPES[task.export.format]
    if task.output_type == "URL":
        item["audioURL"] = media_url
    elif task.output_type == "base64Data":
        item["audioBase64Data"] = base64.b64encode(content).decode("ascii")
    else:
        item["audioDataURI"] = f"data:{mime};base64," + base64.b64encode(content).decode("ascii")
    if task.include_cost:
        # Locally the cost is a configurable rate per minute of audio (0 by default).
        item["cost"] = round(cost_per_minute * result.duration_s / 60.0, 6)
        item["computeSeconds"] = round(result.compute_s, 3)
    return item


def upload_fields(delivery) -> dict[str, Any]:
    """How the upload of a result went: ``uploadStatus`` pending/done/failed and, once it has
    failed for good, ``uploadError`` (nested: a success item carries no top-level ``code``)."""
    fields: dict[str, Any] = {"uploadStatus": delivery.status}
    if delivery.status == "failed":
        fields["uploadError"] = {"code": "uploadFailed", "message": f"Uploading to the uploadEndpoint failed "
                                 f"after {delivery.attempts} attempts: {delivery.last_error}"}
    return fields


def pending_items(stored: StoredTask, made: int) -> list[dict[str, Any]]:
    """One ``processing`` item per result not made yet (none once the task has settled), named
    by the audioUUID it will have."""
    if stored.status in ("done", "failed"):
        return []
    return [{"taskType": "audioInference", "taskUUID": stored.task_uuid, "status": "processing", "resultIndex": index}
            | ({"audioUUID": stored.audio_uuids[index]} if stored.audio_uuids else {})
            for index in range(made, stored.number_results)]


def failed_item(stored: StoredTask) -> dict[str, Any]:
    error = stored.error or {"code": "taskFailed", "message": "The task failed."}
    return {"taskType": "audioInference", "taskUUID": stored.task_uuid, "status": "error",
            "error": error, "code": error["code"], "message": error["message"]}
