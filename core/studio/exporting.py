"""Export the dialogue as heard: each line from the take that speaks it, in dialogue order.

Runs of lines that follow each other in one take are cut from it in one piece, so a dialogue
generated in one go exports as exactly that take. Subtitles (SRT) come from the word timings:
one cue per line, split into even pieces of at most ``CUE_WORDS`` words. With stems, each speaker
also gets a file of the export's length with their lines in place and silence elsewhere
(``core.studio.speaker_stems``), and their own subtitles.
"""

from __future__ import annotations

import math

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.audio.atomic_write import write_bytes_atomically
from core.audio.errors import ExportFailed, InvalidExportSettings
from core.audio.export import Stem, export_audio, export_with_stems
from core.audio.formats import ExportSettings
from core.audio.tags import ExportMetadata, as_made
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.document.takes import Take
from core.studio.speaker_stems import speaker_stems, stem_path
from core.studio.take_checking import flagged_lines

CUE_WORDS = 8


@dataclass(frozen=True)
class ExportChoice:
    """What the person asked for: where, how, and with which extras."""

    settings: ExportSettings
    path: Path  # the file (whole dialogue) or the folder (one file per line)
    per_line: bool
    subtitles: bool
    loudness_lufs: float | None
    line_ids: tuple[str, ...] | None = None  # only these lines (the selection), as one file; None: all
    stems: bool = False  # also one file per speaker beside the file (not with per_line)

    def __post_init__(self) -> None:
        if self.stems and self.per_line:
            raise InvalidExportSettings("stems", True, "a speaker's file is cut to the length of the whole file, "
                                        "so stems go with one file (the dialogue or the selected lines), not with "
                                        "one file per line")


@dataclass(frozen=True)
class Segment:
    """Consecutive lines spoken in one take: the audio between ``start_s`` and ``end_s``."""

    take: Take
    lines: tuple[DialogueLine, ...]  # as they are in the document now
    start_s: float
    end_s: float

    def samples(self, take_samples: np.ndarray | None = None) -> np.ndarray:
        """This segment's audio (cut from ``take_samples`` when the take's audio is already read)."""
        return self.take.audio.between(self.start_s, self.end_s, take_samples)


def segments(dialogue: Dialogue, lines: list[DialogueLine] | None = None) -> list[Segment]:
    """The audio of ``lines`` (default: all), grouped; lines without a take are left out."""
    found: list[Segment] = []
    for line in dialogue.lines if lines is None else lines:
        take = dialogue.take_for(line.id)
        span = take.line_times.get(line.id) if take else None
        if span is None:
            continue
        last = found[-1] if found else None
        if last and last.take.id == take.id and abs(last.end_s - span.start_s) < 1e-9:
            found[-1] = Segment(take, last.lines + (line,), last.start_s, span.end_s)
        else:
            found.append(Segment(take, (line,), span.start_s, span.end_s))
    return found


def assembled(pieces: list[Segment]) -> np.ndarray:
    """The pieces end to end: the audio of the exported file (or of what the window plays).
    Each take is read once, however many pieces come from it."""
    return _assembly(pieces)[0]


def _assembly(pieces: list[Segment]) -> tuple[np.ndarray, list[tuple[int, Speaker]]]:
    """The assembled audio, and the sample where each line begins in it, with its speaker."""
    read: dict[str, np.ndarray] = {}
    parts, line_starts, at = [], [], 0
    for segment in pieces:
        if segment.take.id not in read:
            read[segment.take.id] = segment.take.audio.samples()
        part = segment.samples(read[segment.take.id])
        rate = segment.take.audio.sample_rate
        for line in segment.lines:
            # rounded as the cut is (AudioClip.between), so a line begins on the sample its piece would
            within = round(segment.take.line_times[line.id].start_s * rate) - round(segment.start_s * rate)
            line_starts.append((at + min(max(within, 0), len(part)), line.speaker))
        parts.append(part)
        at += len(part)
    return np.concatenate(parts), line_starts


def placed_lines(pieces: list[Segment], speaker: Speaker | None = None
                 ) -> Iterator[tuple[Segment, DialogueLine, float]]:
    """Each line of the pieces (only ``speaker``'s, if given), with the shift from its take's clock
    to the assembled audio's."""
    offset = 0.0
    for segment in pieces:
        for line in segment.lines:
            if speaker is None or line.speaker is speaker:
                yield segment, line, offset - segment.start_s
        offset += segment.end_s - segment.start_s


def line_starts(pieces: list[Segment]) -> list[tuple[str, float]]:
    """(line id, seconds into the assembled audio) where each line begins."""
    return [(line.id, segment.take.line_times[line.id].start_s + shift)
            for segment, line, shift in placed_lines(pieces)]


def summary(dialogue: Dialogue) -> str:
    """What an export will hold, for the export dialog: how many lines, and which changed since their take."""
    spoken = [line for line in dialogue.lines if line.spoken_text]
    heard = sum(len(segment.lines) for segment in segments(dialogue, spoken))
    if not spoken:
        return "The dialogue has no lines yet."
    if heard == len(spoken):
        told = f"All {len(spoken)} lines are generated."
    else:
        told = (f"{heard} of {len(spoken)} lines are generated; the other {len(spoken) - heard} "
                "are left out of the export. Generate them first to include them.")
    outdated = [str(dialogue.index_of(line.id) + 1) for line in spoken
                if dialogue.status(line.id) is LineStatus.OUTDATED]
    if len(outdated) == 1:
        told += (f" Line {outdated[0]} changed since its take: the export has its old audio. "
                 "Generate it again to update it.")
    elif outdated:
        told += (f" Lines {', '.join(outdated[:-1])} and {outdated[-1]} changed since their takes: the export "
                 "has their old audio. Generate them again to update them.")
    flagged = flagged_lines(dialogue)
    if flagged:
        told += (f" The checks flag {line_numbers(rows_of(dialogue, flagged))} in the takes kept: listen to "
                 f"{'it' if len(flagged) == 1 else 'them'}, or Make until good (Ctrl+F5).")
    return told


def export_dialogue(dialogue: Dialogue, choice: ExportChoice, title: str) -> list[Path]:
    """Write the files the choice asks for; returns their paths. Raises ExportFailed and friends."""
    pieces = _pieces(dialogue, choice)
    if not pieces:
        raise ExportFailed("Nothing to export yet: generate the dialogue first." if choice.line_ids is None
                           else "None of the selected lines is generated yet: generate them first.")
    if choice.per_line:
        return _export_lines(dialogue, pieces, choice)
    mix, line_starts = _assembly(pieces)
    files = dict(_stem_files(dialogue, pieces, choice))
    stems = [Stem(samples, files[speaker], _metadata(dialogue, f"{title} ({dialogue.speakers[speaker].name})",
                                                     _spoken_by(pieces, speaker)))
             for speaker, samples in (speaker_stems(mix, line_starts) if files else [])]
    written = export_with_stems(mix, choice.path, stems, choice.settings, _metadata(dialogue, title, pieces),
                                choice.loudness_lufs)
    if choice.subtitles:
        written.append(write_subtitles(choice.path.with_suffix(".srt"), dialogue, pieces))
        written += [write_subtitles(path.with_suffix(".srt"), dialogue, pieces, speaker)
                    for speaker, path in files.items()]
    return written


def planned_paths(dialogue: Dialogue, choice: ExportChoice) -> list[Path]:
    """The files :func:`export_dialogue` would write for ``choice`` (to ask before replacing any)."""
    pieces = _pieces(dialogue, choice)
    if not choice.per_line:
        audio = ([choice.path] + [path for _, path in _stem_files(dialogue, pieces, choice)]) if pieces else []
    else:
        audio = [_line_path(dialogue, line, choice) for _, line in _lines_of(pieces)]
    return audio + ([path.with_suffix(".srt") for path in audio] if choice.subtitles else [])


def stem_files(dialogue: Dialogue, choice: ExportChoice, lines: list[DialogueLine]) -> list[tuple[Speaker, Path]]:
    """Each speaker of ``lines`` and the file of their stem beside ``choice.path``, [S1]'s first; none
    unless the choice asks for stems."""
    if not choice.stems:
        return []
    heard = {line.speaker for line in lines}
    return [(speaker, stem_path(choice.path, speaker, dialogue.speakers[speaker].name))
            for speaker in Speaker if speaker in heard]


def _stem_files(dialogue: Dialogue, pieces: list[Segment], choice: ExportChoice) -> list[tuple[Speaker, Path]]:
    return stem_files(dialogue, choice, [line for _, line in _lines_of(pieces)])


def _spoken_by(pieces: list[Segment], speaker: Speaker) -> list[Segment]:
    """The pieces with only ``speaker``'s lines, for what a stem's tags say of its takes."""
    return [replace(segment, lines=tuple(line for line in segment.lines if line.speaker is speaker))
            for segment in pieces]


def _pieces(dialogue: Dialogue, choice: ExportChoice) -> list[Segment]:
    if choice.line_ids is None:
        return segments(dialogue)
    chosen = set(choice.line_ids)
    return segments(dialogue, [line for line in dialogue.lines if line.id in chosen])


def _lines_of(pieces: list[Segment]) -> Iterator[tuple[Segment, DialogueLine]]:
    return ((segment, line) for segment in pieces for line in segment.lines)


def _export_lines(dialogue: Dialogue, pieces: list[Segment], choice: ExportChoice) -> list[Path]:
    written = []
    for segment, line in _lines_of(pieces):
        span = segment.take.line_times[line.id]
        one = Segment(segment.take, (line,), span.start_s, span.end_s)
        path = _line_path(dialogue, line, choice)
        written.append(export_audio(one.samples(), path, choice.settings,
                                    _metadata(dialogue, line.read_text, [one]), choice.loudness_lufs))
        if choice.subtitles:
            written.append(write_subtitles(path.with_suffix(".srt"), dialogue, [one]))
    return written


def _line_path(dialogue: Dialogue, line: DialogueLine, choice: ExportChoice) -> Path:
    """A line's own file: its number in the dialogue and its speaker ("003 Ada.mp3")."""
    name = dialogue.speakers[line.speaker].name
    return choice.path / f"{dialogue.index_of(line.id) + 1:03d} {_safe(name)}{choice.settings.format.extension}"


def _metadata(dialogue: Dialogue, title: str, pieces: list[Segment]) -> ExportMetadata:
    """What a file says of how it was made: the speakers heard in it, and each take it is cut from,
    with the lines it speaks there and the model and parameters it was really made with."""
    takes: dict[str, tuple[Take, list[int]]] = {}
    for segment, line in _lines_of(pieces):
        takes.setdefault(segment.take.id, (segment.take, []))[1].append(dialogue.index_of(line.id) + 1)
    heard = {line.speaker for _, line in _lines_of(pieces)}
    speakers = tuple(dialogue.speakers[speaker].name for speaker in Speaker if speaker in heard)
    return ExportMetadata.of_takes(title, speakers, [(tuple(numbers), as_made(take.params.to_dict(), take.model))
                                                     for take, numbers in takes.values()])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in " -_" else "_" for c in name).strip() or "speaker"


# --- subtitles ----------------------------------------------------------------------------------

def srt_cues(dialogue: Dialogue, pieces: list[Segment], speaker: Speaker | None = None
             ) -> list[tuple[float, float, str]]:
    """(start_s, end_s, text) of each cue (of ``speaker``'s lines only, if given), on the exported
    file's clock."""
    cues = []
    for segment, line, shift in placed_lines(pieces, speaker):
        span = segment.take.line_times[line.id]
        words = [w for w in segment.take.words if span.start_s <= w.start_s < span.end_s]
        speaker = dialogue.speakers[line.speaker].name
        groups = _cue_groups(words)
        for number, group in enumerate(groups):
            start = group[0].start_s if group and number else span.start_s
            end = groups[number + 1][0].start_s if number + 1 < len(groups) else span.end_s
            text = " ".join(w.text for w in group) if group else line.read_text
            label = f"{speaker}: {text}" if number == 0 else text
            cues.append((start + shift, end + shift, label))
    return cues


def _cue_groups(words: list) -> list[list]:
    """A line's words in cues of at most ``CUE_WORDS``, as even as they can be: a line of 9 words
    is 5 + 4, never 8 + a widow cue of one word on screen for half a second."""
    if not words:
        return [[]]
    count = math.ceil(len(words) / CUE_WORDS)
    size, longer = divmod(len(words), count)
    groups, at = [], 0
    for number in range(count):
        step = size + (number < longer)
        groups.append(words[at:at + step])
        at += step
    return groups


def srt_text(cues: list[tuple[float, float, str]]) -> str:
    blocks = [f"{number}\n{_srt_time(start)} --> {_srt_time(end)}\n{text}\n"
              for number, (start, end, text) in enumerate(cues, 1)]
    return "\n".join(blocks)


def _srt_time(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def write_subtitles(path: Path, dialogue: Dialogue, pieces: list[Segment], speaker: Speaker | None = None) -> Path:
    """The SRT of the pieces (of ``speaker``'s lines only, for their stem), written whole or not at all."""
    try:
        write_bytes_atomically(path, srt_text(srt_cues(dialogue, pieces, speaker)).encode("utf-8"))
    except OSError as error:
        raise ExportFailed(f"Could not write {path}: {error.strerror or error}.") from error
    return path
