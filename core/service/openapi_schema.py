"""The request body of ``POST /v1`` for the OpenAPI description: a JSON array of tasks.

The app reads the body itself (size limit first, then one error item per bad task), so FastAPI
is given this schema only to describe the API, for clients and for fuzzing it with schemathesis.
Ranges come from the same tables the validation uses.
"""

from __future__ import annotations

from core.audio.formats import AudioFormat
from core.params import FIELD_SPECS, MODEL_IDS, NEGATIVE_PROMPT_LENGTH
from core.service.protocol import (DELIVERY_METHODS, MAX_SCRIPT_CHARS, MAX_TASKS_PER_REQUEST, MAX_VOICES, MIN_TTL_S,
                                   OUTPUT_TYPES)

_UUID = {"type": "string", "format": "uuid"}


def _number(name: str) -> dict:
    spec = FIELD_SPECS[name]
    return {"type": "integer" if spec.integer else "number", "minimum": spec.minimum, "maximum": spec.maximum}


def _task(task_type: str, properties: dict, required: tuple[str, ...] = ()) -> dict:
    # A field given as null counts as not given (protocol.parse_task), so optional ones may be null.
    optional = {name: {"anyOf": [schema, {"type": "null"}]} for name, schema in properties.items()
                if name not in required}
    return {"type": "object", "additionalProperties": False,
            "required": ["taskType", *required],
            "properties": {"taskType": {"const": task_type}, **properties, **optional}}


AUDIO_INFERENCE = _task("audioInference", {
    "taskUUID": _UUID,
    "model": {"enum": sorted(MODEL_IDS)},
    # Other speech fields are taken only as null (an older SDK sends every field it knows).
    "speech": {"type": "object", "required": ["text"], "additionalProperties": {"type": "null"},
               "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_SCRIPT_CHARS,
                                       "pattern": r"\S"}}},
    "negativePrompt": {"type": "string", "minLength": NEGATIVE_PROMPT_LENGTH[0], "maxLength": NEGATIVE_PROMPT_LENGTH[1]},
    "seed": _number("seed"),
    "CFGScale": _number("CFGScale"),
    "numberResults": _number("numberResults"),
    "settings": {"type": "object", "additionalProperties": False, "properties": {
        "temperature": _number("settings.temperature"), "audioTemperature": _number("settings.audioTemperature"),
        "topK": _number("settings.topK"), "includePrefix": {"type": "boolean"}}},
    "inputs": {"type": "object", "additionalProperties": False,
               "properties": {"audios": {"type": "array", "minItems": 1, "maxItems": MAX_VOICES,
                                         "items": {"type": "string"}}}},
    "outputFormat": {"enum": [f.value for f in AudioFormat]},
    "outputType": {"enum": list(OUTPUT_TYPES)},
    "audioSettings": {"type": "object", "additionalProperties": False, "properties": {
        "sampleRate": {"type": "integer"}, "bitrate": {"type": "integer"}, "channels": {"enum": [1, 2]}}},
    "deliveryMethod": {"enum": list(DELIVERY_METHODS)},
    "ttl": {"type": "integer", "minimum": MIN_TTL_S},
    "includeCost": {"type": "boolean"},
    "webhookURL": {"type": "string", "format": "uri"},
    "uploadEndpoint": {"type": "string", "format": "uri"},
}, required=("taskUUID", "speech"))

TASKS_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "array", "minItems": 1, "maxItems": MAX_TASKS_PER_REQUEST,
        "items": {"oneOf": [
            AUDIO_INFERENCE,
            _task("getResponse", {"taskUUID": _UUID}, required=("taskUUID",)),
            _task("ping", {"taskUUID": _UUID, "ping": {"type": "boolean"}}),
            _task("authentication", {"apiKey": {"type": "string"}, "connectionSessionUUID": _UUID}),
            _task("mediaStorage", {"taskUUID": _UUID, "operation": {"enum": ["upload", "delete"]},
                                   "media": {"type": "string"}}, required=("taskUUID", "operation", "media")),
        ]},
    }}},
}
