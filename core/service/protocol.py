"""The task API's requests, parsed and validated: JSON → typed tasks, or an ApiError per task.

A request body is a JSON array of tasks (seed-api.md §1). Each task is parsed on its own, so one
bad task becomes one error item and the others still run (§9, "mixed batch"). Generation fields
go through the one parameter model the window and the command line use (``GenerationParams``,
``ExportSettings``), so a value is refused with the same field name and range everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Union

from core.audio.formats import AudioFormat, ExportSettings
from core.dia2.script import SPEAKER_TAGS
from core.errors import InvalidParameter
from core.params import GenerationParams
from core.service.api_errors import ApiError

MAX_TASKS_PER_REQUEST = 32
MAX_SCRIPT_CHARS = 3000  # the hosted API's cap on speech.text
MIN_TTL_S = 60
OUTPUT_TYPES = ("URL", "base64Data", "dataURI")
DELIVERY_METHODS = ("sync", "async")

# Fields of an audioInference task (seed-api.md §0): generation fields go to GenerationParams.
_GENERATION_FIELDS = ("model", "negativePrompt", "seed", "CFGScale", "settings", "numberResults")
_DELIVERY_FIELDS = ("taskType", "taskUUID", "speech", "inputs", "outputType", "outputFormat", "audioSettings",
                    "deliveryMethod", "ttl", "includeCost", "webhookURL", "uploadEndpoint")
# What "settings" takes, as the API names it (GenerationParams' settings.* fields).
SETTINGS = tuple(name.split(".", 1)[1] for name in GenerationParams.API_NAMES if name.startswith("settings."))
MAX_URL_CHARS = 4096
MAX_VOICES = len(SPEAKER_TAGS)  # one per speaker of the model: [S1] and [S2]


@dataclass(frozen=True)
class AudioInferenceTask:
    task_uuid: str
    script: str
    params: GenerationParams  # with the seed the takes use (chosen here when absent)
    export: ExportSettings
    output_type: str
    delivery: str
    ttl_s: int | None
    include_cost: bool
    body: dict[str, Any]  # the task as sent: a retried taskUUID must send the same
    voices: tuple[Any, ...] = ()  # inputs.audios as sent: [S1]'s first (resolved by the service)
    webhook_url: str | None = None
    upload_endpoint: str | None = None


@dataclass(frozen=True)
class MediaStorageTask:
    task_uuid: str
    operation: str  # upload or delete
    media: Any  # upload: a URL, data URI or Base64; delete: a mediaUUID


@dataclass(frozen=True)
class GetResponseTask:
    task_uuid: str


@dataclass(frozen=True)
class PingTask:
    task_uuid: str | None


@dataclass(frozen=True)
class AuthenticationTask:
    api_key: str | None
    session_uuid: str | None


Task = Union[AudioInferenceTask, GetResponseTask, PingTask, AuthenticationTask, MediaStorageTask]
TASK_TYPES = ["audioInference", "getResponse", "mediaStorage", "ping", "authentication"]


def parse_request(body: Any) -> list[Task | ApiError]:
    """The tasks of a request body, in order; a task that cannot be used is its ApiError.
    Raises ApiError when the body as a whole is unusable (not an array, empty, too many)."""
    if not isinstance(body, list):
        raise ApiError("invalidRequestBody", "The request body must be a JSON array of task objects, "
                       'such as [{"taskType": "ping", "ping": true}].')
    if not body:
        raise ApiError("invalidRequestBody", "The request holds no task: send at least one task object.")
    if len(body) > MAX_TASKS_PER_REQUEST:
        raise ApiError("invalidRequestBody", f"A request holds at most {MAX_TASKS_PER_REQUEST} tasks; "
                       f"this one holds {len(body)}.")
    out: list[Task | ApiError] = []
    for task in body:
        try:
            out.append(parse_task(task))
        except ApiError as error:
            out.append(error)
    return out


def parse_task(task: Any) -> Task:
    if not isinstance(task, dict):
        raise ApiError("invalidTask", f"Each task must be a JSON object, not {_json_type(task)}.")
    # A field given as null is a field not given: clients send their unset fields as null.
    task = {key: value for key, value in task.items() if value is not None}
    task_type = task.get("taskType")
    task_uuid = task.get("taskUUID")
    try:
        if task_type == "audioInference":
            return _audio_inference(task)
        if task_type == "getResponse":
            _only(task, ("taskType", "taskUUID"))
            return GetResponseTask(_task_uuid(task, required=True))
        if task_type == "ping":
            _only(task, ("taskType", "taskUUID", "ping"))
            if not isinstance(task.get("ping", True), bool):
                raise ApiError("invalidPing", "ping must be true.", parameter="ping")
            return PingTask(_task_uuid(task, required=False))
        if task_type == "mediaStorage":
            _only(task, ("taskType", "taskUUID", "operation", "media"))
            operation = _choice(task, "operation", ("upload", "delete"), None)
            if task.get("media") is None:
                raise ApiError("missingMedia", "The task has no media: an audio URL, data URI or Base64 to "
                               "upload, or the mediaUUID to delete.", parameter="media")
            return MediaStorageTask(_task_uuid(task, required=True), operation, task["media"])
        if task_type == "authentication":
            _only(task, ("taskType", "taskUUID", "apiKey", "connectionSessionUUID"))
            session = _optional_str(task, "connectionSessionUUID")
            if session is not None and not is_uuid(session):
                raise ApiError("invalidConnectionSessionUUID", "connectionSessionUUID must be the UUID a previous "
                               "authentication answered.", parameter="connectionSessionUUID")
            return AuthenticationTask(_optional_str(task, "apiKey"), session)
    except ApiError as error:
        raise error.for_task(task_type if isinstance(task_type, str) else None,
                             task_uuid if isinstance(task_uuid, str) else None)
    if task_type is None:
        raise ApiError("missingTaskType", "The task has no taskType.", parameter="taskType",
                       task_uuid=task_uuid if isinstance(task_uuid, str) else None)
    raise ApiError("unsupportedTaskType",
                   f"The task type {task_type!r} is not served here; this server takes "
                   + ", ".join(TASK_TYPES) + ".", parameter="taskType",
                   task_uuid=task_uuid if isinstance(task_uuid, str) else None,
                   extra={"allowedValues": TASK_TYPES})


def _audio_inference(task: dict[str, Any]) -> AudioInferenceTask:
    _only(task, _GENERATION_FIELDS + _DELIVERY_FIELDS)
    task_uuid = _task_uuid(task, required=True)
    script = _script(task.get("speech"))
    try:
        params = generation_params({k: task[k] for k in _GENERATION_FIELDS if k in task}).with_seed()
        audio_settings = task.get("audioSettings")
        if audio_settings is not None and not isinstance(audio_settings, dict):
            raise InvalidParameter("audioSettings", audio_settings, 'an object such as {"sampleRate": 44100}')
        export = ExportSettings.from_api(_output_format(task), audio_settings)
    except InvalidParameter as error:
        raise invalid_parameter(error) from None
    output_type = _choice(task, "outputType", OUTPUT_TYPES, "URL")
    delivery = _choice(task, "deliveryMethod", DELIVERY_METHODS, "sync")
    ttl = task.get("ttl")
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < MIN_TTL_S:
            raise ApiError("invalidTtl", f"ttl = {ttl!r} is not allowed: a whole number of seconds, "
                           f"{MIN_TTL_S} or more.", parameter="ttl")
        if output_type != "URL":
            raise ApiError("incompatibleParameters", f"ttl applies to outputType URL only, not {output_type}.",
                           parameter="ttl")
    include_cost = task.get("includeCost", False)
    if not isinstance(include_cost, bool):
        raise ApiError("invalidIncludeCost", f"includeCost = {include_cost!r} is not allowed: true or false.",
                       parameter="includeCost")
    upload_endpoint = _url(task, "uploadEndpoint")
    if upload_endpoint and params.number_results > 1:
        raise ApiError("incompatibleParameters", f"uploadEndpoint takes one result: with numberResults = "
                       f"{params.number_results}, every result would be PUT to the same URL, each replacing the last; "
                       "send one task per uploadEndpoint.", parameter="uploadEndpoint")
    return AudioInferenceTask(task_uuid, script, params, export, output_type, delivery, ttl, include_cost, task,
                              parse_voices(task.get("inputs")), _url(task, "webhookURL"), upload_endpoint)


def generation_params(fields: dict[str, Any]) -> GenerationParams:
    """A task's (or a live start's) generation fields, checked; raises InvalidParameter for a
    value, ApiError for a field ``settings`` does not have."""
    settings = fields.get("settings")
    if isinstance(settings, dict):  # another type is GenerationParams' to refuse
        for key in settings:
            if key not in SETTINGS:
                raise ApiError("unknownParameter", f"settings.{key} is not a Dia2 setting; settings takes "
                               + ", ".join(SETTINGS) + ".", parameter=f"settings.{key}")
    return GenerationParams.from_dict(fields)


def _url(task: dict[str, Any], name: str) -> str | None:
    value = task.get(name)
    if value is None:
        return None
    if (not isinstance(value, str) or not value.startswith(("http://", "https://"))
            or len(value) > MAX_URL_CHARS):
        raise ApiError(f"invalid{_code_name(name)}", f"{name} must be an http(s) URL of at most {MAX_URL_CHARS} "
                       "characters.", parameter=name)
    return value


def parse_voices(inputs: Any) -> tuple[Any, ...]:
    if inputs is None:
        return ()
    if not isinstance(inputs, dict):
        raise ApiError("invalidInputs", 'inputs must be an object such as {"audios": ["<mediaUUID>"]}.',
                       parameter="inputs")
    for key in inputs:
        if key != "audios":
            raise ApiError("unknownParameter", f"inputs.{key} is not a Dia2 input; the voices go in inputs.audios.",
                           parameter=f"inputs.{key}")
    if "audios" not in inputs:
        return ()
    audios = inputs["audios"]
    if not isinstance(audios, list) or not 1 <= len(audios) <= MAX_VOICES:
        raise ApiError("invalidInputsAudios", f"inputs.audios must be a list of 1 to {MAX_VOICES} voices "
                       "([S1]'s first); without voices, leave it out.", parameter="inputs.audios",
                       extra={"min": 1, "max": MAX_VOICES})
    return tuple(audios)


def _script(speech: Any) -> str:
    if speech is None:
        raise ApiError("missingSpeech", 'The task has no speech: give the script as "speech": {"text": "[S1] …"}.',
                       parameter="speech")
    if not isinstance(speech, dict):
        raise ApiError("invalidSpeech", f"speech must be an object with a text, not {_json_type(speech)}.",
                       parameter="speech")
    for key, value in speech.items():
        # The older SDK sends every speech field it knows, unset ones as null (seed-api.md §0).
        if key != "text" and value is not None:
            raise ApiError("unknownParameter", f"speech.{key} is not a Dia2 field: the voices come from "
                           "inputs.audios, the script from speech.text.", parameter=f"speech.{key}")
    text = speech.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError("missingSpeechText", "speech.text must hold the script, such as \"[S1] Hello. [S2] Hi!\".",
                       parameter="speech.text")
    if len(text) > MAX_SCRIPT_CHARS:
        raise ApiError("invalidSpeechText", f"speech.text holds {len(text)} characters; the most is "
                       f"{MAX_SCRIPT_CHARS}.", parameter="speech.text", extra={"max": MAX_SCRIPT_CHARS})
    return text


def _output_format(task: dict[str, Any]) -> str | AudioFormat:
    value = task.get("outputFormat", "MP3")
    if not isinstance(value, str) or value not in {f.value for f in AudioFormat}:
        raise InvalidParameter("outputFormat", value, "one of MP3, WAV, FLAC or OGG")
    return value


def _choice(task: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = task.get(name, default)
    if value not in allowed:
        raise ApiError(f"invalid{_code_name(name)}", f"{name} = {value!r} is not allowed: one of "
                       + ", ".join(allowed) + ".", parameter=name, extra={"allowedValues": list(allowed)})
    return value


def _task_uuid(task: dict[str, Any], required: bool) -> str | None:
    value = task.get("taskUUID")
    if value is None and not required:
        return None
    if value is None:
        raise ApiError("missingTaskUUID", "The task has no taskUUID: give each task a UUID v4 of its own.",
                       parameter="taskUUID")
    if not is_uuid(value):
        raise ApiError("invalidTaskUUID", f"taskUUID = {value!r} is not a UUID such as "
                       "3f2b7c1e-5a4d-4e8f-9b6a-0c1d2e3f4a5b.", parameter="taskUUID")
    return value


def is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _optional_str(task: dict[str, Any], name: str) -> str | None:
    value = task.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(f"invalid{_code_name(name)}", f"{name} must be a string.", parameter=name)
    return value


def _only(task: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in task:
        if key not in allowed:
            raise ApiError("unknownParameter", f"{key} is not a field of {_a(task['taskType'])} task; "
                           "it takes " + ", ".join(allowed) + ".", parameter=key)


def _a(word: str) -> str:
    """``an audioInference``, ``a ping``."""
    return ("an " if word[:1].lower() in ("a", "e", "i", "o", "u") else "a ") + word


def invalid_parameter(error: InvalidParameter) -> ApiError:
    """A generation field out of range, as the API reports it (``invalidCFGScale``, …)."""
    return ApiError(f"invalid{_code_name(error.field)}", str(error), parameter=error.field)


def _code_name(field: str) -> str:
    """``settings.topK`` → ``SettingsTopK``, ``CFGScale`` → ``CFGScale`` (for invalid* codes)."""
    return "".join(part[:1].upper() + part[1:] for part in field.replace(" ", ".").split("."))


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
