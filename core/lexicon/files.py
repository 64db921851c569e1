"""Lexicon files, read and written by their name's ending: .json (Dia Studio's own), .csv (a
spreadsheet), .pls or .xml (W3C PLS 1.0). Reading gives the lexicon and the problems of what was
left out; a damaged file is refused whole. Writing replaces a file all at once or not at all."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from core.audio.atomic_write import write_bytes_atomically
from core.lexicon import csv_file, json_file, pls_file
from core.lexicon.errors import InvalidLexiconFile, LexiconFileError
from core.lexicon.lexicon import Lexicon

MAX_FILE_BYTES = 5 * 1024 * 1024  # a lexicon of thousands of words is far smaller
_FORMATS = {".json": json_file, ".csv": csv_file, ".pls": pls_file, ".xml": pls_file}
LEXICON_SUFFIXES = tuple(_FORMATS)


def read_lexicon(path: Path | str) -> tuple[Lexicon, list[str]]:
    """The lexicon in ``path`` and a problem (where, what) for each entry it has that could not be
    used, such as a PLS lexeme with phonemes only, or a word written twice."""
    path = Path(path)
    file_format = _format(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise LexiconFileError(f"The lexicon {path} cannot be read: {error.strerror or error}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise InvalidLexiconFile(str(path), f"it is larger than {MAX_FILE_BYTES // 2 ** 20} MB, far more than "
                                            "a lexicon holds.")
    return file_format.read(data, str(path))


def write_lexicon(path: Path | str, lexicon: Lexicon) -> None:
    path = Path(path)
    data = _format(path).write(lexicon)
    try:
        write_bytes_atomically(path, data)
    except OSError as error:
        raise LexiconFileError(f"The lexicon {path} cannot be saved: {error.strerror or error}; any file there "
                               "is unchanged.") from None


def _format(path: Path) -> ModuleType:
    try:
        return _FORMATS[path.suffix.lower()]
    except KeyError:
        raise LexiconFileError(f"{path} is not a lexicon file: its name must end in .json, .csv or .pls "
                               "(W3C PLS).") from None
