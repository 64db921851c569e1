"""A lexicon as a spreadsheet: CSV with the header ``written,spoken,case_sensitive,note``.

``case_sensitive`` and ``note`` may be left out, and columns of other names are ignored; a
case_sensitive cell is true, yes or 1, or false, no, 0 or blank. UTF-8 with or
without a byte order mark is read; the byte order mark is written, so that Excel reads the file
as UTF-8."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry, InvalidLexiconFile
from core.lexicon.lexicon import Lexicon, first_of_each

COLUMNS = ("written", "spoken", "case_sensitive", "note")
_REQUIRED = COLUMNS[:2]
_TRUE, _FALSE = ("true", "yes", "1"), ("", "false", "no", "0")


def read(data: bytes, file: str) -> tuple[Lexicon, list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidLexiconFile(file, f"it is not UTF-8 text (byte {error.start + 1}); save it from the "
                                       "spreadsheet as CSV UTF-8.") from None
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)  # an unclosed quote is an error, not a long cell
    try:
        return first_of_each(_entries(rows, file))
    except csv.Error as error:
        raise InvalidLexiconFile(file, f"line {rows.line_num}: {error}.") from None


def write(lexicon: Lexicon) -> bytes:
    text = io.StringIO()
    rows = csv.writer(text, lineterminator="\r\n")
    rows.writerow(COLUMNS)
    rows.writerows((entry.written, entry.spoken, str(entry.case_sensitive).lower(), entry.note)
                   for entry in lexicon.entries)
    return text.getvalue().encode("utf-8-sig")


def _entries(rows: Any, file: str) -> Iterator[tuple[str, LexiconEntry]]:
    """Each entry with its place ("line 3"), from ``rows`` (a ``csv.reader``) after the header."""
    header = [name.strip().lower() for name in next(rows, [])]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise InvalidLexiconFile(file, f"its first line must name the columns {','.join(COLUMNS)} "
                                       f"(case_sensitive and note may be left out); {' and '.join(missing)} "
                                       f"{'is' if len(missing) == 1 else 'are'} missing.")
    twice = next((name for name in COLUMNS if header.count(name) > 1), None)
    if twice:
        raise InvalidLexiconFile(file, f"its first line names the column {twice} twice.")
    column = {name: header.index(name) for name in COLUMNS if name in header}
    while True:
        line = rows.line_num + 1  # where the next row starts (a quoted cell may span lines)
        row = next(rows, None)
        if row is None:
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise InvalidLexiconFile(file, f"line {line} has {len(row)} cells, more than the {len(header)} columns "
                                           "of the first line (a comma in a word must be inside double quotes).")
        cells = {name: row[index] if index < len(row) else "" for name, index in column.items()}
        try:
            entry = LexiconEntry(cells["written"], cells["spoken"],
                                 _case_sensitive(cells.get("case_sensitive", ""), line, file), cells.get("note", ""))
        except InvalidLexiconEntry as error:
            raise InvalidLexiconFile(file, f"line {line}: {error}") from None
        yield f"line {line}", entry


def _case_sensitive(cell: str, line: int, file: str) -> bool:
    value = cell.strip().lower()
    if value not in _TRUE + _FALSE:
        raise InvalidLexiconFile(file, f'line {line}: case_sensitive must be true or false, not "{cell}".')
    return value in _TRUE
