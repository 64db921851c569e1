"""One file per speaker beside an exported mix ("stems"), for editors who mix dialogue in a DAW with
a track per speaker: their names, and the mix split by who speaks each line.

A stem is named after the mix, with the speaker's tag and name before the extension:
``episode.wav`` → ``episode.S1-Ann.wav`` and ``episode.S2-Theo.wav``. A script's speakers have no
names: ``scene.S1.wav``. A name keeps its letters, digits, ``-`` and ``_``; any run of other
characters (spaces, dots, slashes) becomes one ``_`` ("Dr. Who" → ``Dr_Who``), and it is cut to
``NAME_CHARS`` characters. The tag alone keeps two speakers' stems apart, whatever their names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.audio.stems import split_by_speaker
from core.document.speakers import Speaker

NAME_CHARS = 40
_NOT_SAFE = re.compile(r"[^\w-]+")


def stem_path(path: Path, speaker: Speaker, name: str | None = None) -> Path:
    """The file of ``speaker``'s stem beside the mix at ``path``."""
    safe = _NOT_SAFE.sub("_", name or "").strip("_")[:NAME_CHARS].strip("_")
    return path.with_name(f"{path.stem}.{speaker.value}{'-' + safe if safe else ''}{path.suffix}")


def speaker_stems(mix: np.ndarray, line_starts: Sequence[tuple[int, Speaker]],
                  speakers: Sequence[Speaker] = ()) -> list[tuple[Speaker, np.ndarray]]:
    """Each speaker's stem of ``mix`` (``core.audio.stems``: they add up to it exactly), [S1]'s first.
    ``line_starts``: the sample where each line begins, and its speaker; ``speakers``: those who
    get a stem even without a line (a silent one)."""
    stems = split_by_speaker(mix, line_starts, speakers)
    return [(speaker, stems[speaker]) for speaker in Speaker if speaker in stems]
