"""Lines named as the person counts them (numbered from 1, as the window shows them): "line 2",
"lines 1–3", "lines 1, 3, 5–7", in the window's takes, the command line and a batch's report."""

from __future__ import annotations

from typing import Iterable

from core.document.dialogue import Dialogue


def line_numbers(rows: Iterable[int]) -> str:
    """Runs of rows (numbered from 1) as ranges."""
    rows = sorted(rows)
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    parts = [str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    return f"{'line' if len(rows) == 1 else 'lines'} {', '.join(parts)}"


def rows_of(dialogue: Dialogue, line_ids: Iterable[str]) -> list[int]:
    """The rows of ``line_ids`` in the dialogue, numbered from 1."""
    return [dialogue.index_of(line_id) + 1 for line_id in line_ids]
