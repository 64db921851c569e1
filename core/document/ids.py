"""Ids of lines, takes and clips: unique, and kept through every edit and save."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return uuid.uuid4().hex
