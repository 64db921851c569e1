"""Errors as the task API reports them: an item of the response's ``errors`` array.

Codes follow the hosted API's catalogue (seed-api.md §9): ``invalid*`` for a value out of range
or of the wrong type, ``missing*``, ``unknownParameter``, ``unsupportedTaskType``,
``conflictTaskUUID`` and so on; README lists the ones this server uses. A task's error names the
task (``taskType``, ``taskUUID``) so a client can route it, and the parameter it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    code: str
    message: str
    parameter: str | None = None
    task_type: str | None = None
    task_uuid: str | None = None
    http_status: int = 400  # when this error alone answers the request
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. allowedValues, min, max

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def for_task(self, task_type: str | None, task_uuid: str | None) -> "ApiError":
        """This error, scoped to a task (keeps what is already known)."""
        self.task_type = self.task_type or task_type
        self.task_uuid = self.task_uuid or task_uuid
        return self

    def item(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            out["parameter"] = self.parameter
        if self.task_type is not None:
            out["taskType"] = self.task_type
        if self.task_uuid is not None:
            out["taskUUID"] = self.task_uuid
        out.update(self.extra)
        return out
