"""The files a render writes: their names (one per take, and with stems one per speaker beside
each), their tags, and what a killed run left.

Shared by ``dia-studio render`` and the batch, so a batch's render writes what ``render`` would.
"""

from __future__ import annotations

import glob
from dataclasses import replace
from pathlib import Path

from core.audio.export import Stem, export_with_stems
from core.audio.formats import ExportSettings
from core.audio.tags import ExportMetadata, as_made
from core.dia2.events import TakeResult
from core.dia2.script import SPEAKER_TAGS
from core.document.dialogue import Dialogue
from core.document.script_text import spoken_script_lines
from core.document.speakers import Speaker
from core.document.takes import Take
from core.errors import DiaStudioError
from core.studio.speaker_stems import speaker_stems, stem_path
from core.studio.take_assembly import take_from_result


class UntimedTake(DiaStudioError):
    """A take of two speakers without word timings: whose each part is cannot be told."""


def take_paths(path: Path, count: int) -> list[Path]:
    """``path`` for one take; NAME_take1.EXT … NAME_takeN.EXT for more."""
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}_take{i + 1}{path.suffix}") for i in range(count)]


def script_speakers(script: str) -> tuple[Speaker, ...]:
    """Who speaks in ``script``, [S1] first: each gets a stem, so a render's files are known before it
    renders (a speaker the take leaves out gets a silent one)."""
    heard = {line.speaker for line in spoken_script_lines(script)}
    return tuple(speaker for speaker in Speaker if speaker in heard)


def stem_paths(path: Path, speakers: tuple[Speaker, ...]) -> list[Path]:
    """The stems beside a take's file: ``scene.S1.wav``, ``scene.S2.wav`` (a script's speakers have no names)."""
    return [stem_path(path, speaker) for speaker in speakers]


def export_take(script: str, take: TakeResult, path: Path, settings: ExportSettings,
                loudness_lufs: float | None = None, stems: bool = False) -> list[Path]:
    """Write a take of ``script`` to ``path`` (and, with ``stems``, each speaker's stem beside it);
    returns the files written, the take's first. A take of two speakers without word timings is
    written alone, then refused its stems (UntimedTake): the take made is not lost for them."""
    metadata = take_metadata(script, take)
    parts = []
    if stems:
        speakers = script_speakers(script)
        line_starts = _line_starts(script, take, speakers)
        if line_starts is None:
            export_with_stems(take.audio, path, (), settings, metadata, loudness_lufs)
            raise UntimedTake(f"the take has no word timings, so its speakers' lines cannot be told apart: {path} "
                              "is written, without stems")
        parts = [Stem(samples, stem_path(path, speaker),
                      replace(metadata, title=f"{metadata.title} ({speaker.value})", speakers=(speaker.value,)))
                 for speaker, samples in speaker_stems(take.audio, line_starts, speakers)]
    return export_with_stems(take.audio, path, parts, settings, metadata, loudness_lufs)


def heard_take(script: str, take: TakeResult) -> tuple[Dialogue, Take] | None:
    """The script's lines with the take in them, each line's place in it found from its word timings
    (as a project's export reads a take); None when the take has no word timings."""
    dialogue = Dialogue(spoken_script_lines(script))
    heard = take_from_result(take, dialogue.lines)
    if heard is None or not heard.line_times:
        return None
    dialogue.add_takes([heard])
    return dialogue, heard


def _line_starts(script: str, take: TakeResult, speakers: tuple[Speaker, ...]) -> list[tuple[int, Speaker]] | None:
    """The sample where each line of the take begins, and its speaker; None when that cannot be told
    (no word timings, and more than one speaker)."""
    found = heard_take(script, take)
    if found is None:
        return [(0, speakers[0])] if len(speakers) == 1 else None
    _, heard = found
    return [(round(heard.line_times[line.id].start_s * take.sample_rate), line.speaker)
            for line in heard.source_lines if line.id in heard.line_times]


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
