"""A take's line spans as a file gives them (``dia-studio check --line-times``): a JSON list of
``[start_s, end_s]``, one per line of the script in order, ``null`` for a line the take never reached."""

from __future__ import annotations

import json
from pathlib import Path

from core.dia2.transcript_alignment import is_number
from core.errors import DiaStudioError

TOLERANCE_S = 0.05  # a span may end this far past the audio (rounding in whoever wrote it)


class InvalidLineTimes(DiaStudioError):
    pass


def load_line_times(path: Path, line_count: int, duration_s: float) -> list[tuple[float, float] | None]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidLineTimes(f"cannot read the line times {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise InvalidLineTimes(f"the line times {path} are not JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(items, list):
        raise InvalidLineTimes("the line times must be a JSON list of [start_s, end_s], one per line of the script")
    if len(items) != line_count:
        raise InvalidLineTimes(f"the script has {line_count} line{'s' * (line_count != 1)} but the line times give "
                               f"{len(items)} span{'s' * (len(items) != 1)}: give one per line, null for a line "
                               "the take never reached")
    spans, previous_end = [], 0.0
    for number, item in enumerate(items, start=1):
        if item is None:
            spans.append(None)
            continue
        if not (isinstance(item, list) and len(item) == 2 and all(is_number(value) for value in item)):
            raise InvalidLineTimes(f"line {number}: {json.dumps(item)} must be [start_s, end_s], two numbers of seconds")
        start, end = float(item[0]), float(item[1])
        if not 0 <= start < end:
            raise InvalidLineTimes(f"line {number}: [{start:g}, {end:g}] must start at 0 or later and end after it starts")
        if end > duration_s + TOLERANCE_S:
            raise InvalidLineTimes(f"line {number}: ends at {end:g} s, after the audio's end ({duration_s:.2f} s)")
        if start < previous_end - TOLERANCE_S:
            raise InvalidLineTimes(f"line {number}: starts at {start:g} s, before line {number - 1} ends "
                                   f"({previous_end:g} s): the lines are spoken in order")
        spans.append((start, min(end, duration_s)))
        previous_end = end
    return spans
