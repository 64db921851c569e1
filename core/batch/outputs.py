"""The files a render writes: their names (one per take), their tags, and what a killed run left.

Shared by ``dia-studio render`` and the batch, so a batch's render writes what ``render`` would.
"""

from __future__ import annotations

import glob
from pathlib import Path

from core.audio.tags import ExportMetadata, as_made
from core.dia2.script import SPEAKER_TAGS


def take_paths(path: Path, count: int) -> list[Path]:
    """``path`` for one take; NAME_take1.EXT … NAME_takeN.EXT for more."""
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}_take{i + 1}{path.suffix}") for i in range(count)]


def take_metadata(script: str, take) -> ExportMetadata:
    """The tags of a take's file: the script's first words, who is heard (the artists), how it was made."""
    speakers = ("S1", "S2") if SPEAKER_TAGS[1] in script else ("S1",)
    return ExportMetadata(title=_title(script), speakers=speakers, seed=take.seed,
                          parameters=as_made(take.params.to_dict(), take.model))


def remove_leftovers(path: Path) -> None:
    """Remove the temporary files a killed write of ``path`` left beside it (``write_atomically``
    names them ``.NAME.XXXXXXXX.part``); the file under the name itself was never torn."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
        leftover.unlink(missing_ok=True)


def _title(script: str) -> str:
    words = script.split()
    return " ".join(words[:12]) + (" …" if len(words) > 12 else "")
