"""Opening a project folder: project.json read, migrated and checked, audio files checked."""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker, SpeakerProfile, VoiceReference
from core.document.takes import Take
from core.lexicon.errors import InvalidLexiconFile
from core.lexicon.json_file import from_document
from core.lexicon.lexicon import Lexicon, first_of_each
from core.params import GenerationParams
from core.project.clips_on_disk import track
from core.project.json_fields import InvalidField, checked, refused_at
from core.project.layout import AUDIO_DIR, AUDIO_NAME, CODES_NAME, PROJECT_FILE, ProjectFileError, os_problem
from core.project.migrations import migrate
from core.take_checks.verdicts import CheckedTake, report_from_json


def open_project(folder: Path | str) -> Dialogue:
    """The document saved in the project folder; :class:`ProjectFileError` says what is wrong."""
    folder = Path(folder)
    file = folder / PROJECT_FILE
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(f"{folder} is not a Dia Studio project: it has no {PROJECT_FILE}.") from None
    except OSError as error:
        raise ProjectFileError(f"Cannot read {file}: {os_problem(error)}.") from error
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectFileError(f"Cannot open {folder}: {PROJECT_FILE} is damaged ({error}).") from None
    try:
        return _read_dialogue(migrate(data), folder)
    except InvalidField as problem:
        raise ProjectFileError(f"Cannot open {folder}: in {PROJECT_FILE}, {problem}.") from None


def _read_dialogue(data: dict[str, Any], folder: Path) -> Dialogue:
    speakers = checked(data, "speakers", dict, "")
    profiles = {speaker: _read_speaker(checked(speakers, speaker.value, dict, "speakers"),
                                       f"speakers.{speaker.value}", folder) for speaker in Speaker}
    with refused_at("params"):
        params = GenerationParams.from_dict(checked(data, "params", dict, ""))
    lines = [_read_line(item, f"lines[{i}]") for i, item in enumerate(checked(data, "lines", list, ""))]
    takes = [_read_take(item, f"takes[{i}]", folder) for i, item in enumerate(checked(data, "takes", list, ""))]
    kept = checked(data, "kept_takes", dict, "")
    kept = {line_id: checked(kept, line_id, str, "kept_takes") for line_id in kept}
    take_ids = {take.id for take in takes}
    checks = {take_id: found for take_id, found in _read_checks(checked(data, "take_checks", dict, "")).items()
              if take_id in take_ids}
    lexicon, left_out = _read_lexicon(data.get("lexicon"))
    with refused_at("the document"):
        return Dialogue(lines, profiles, params, takes, kept, checks, lexicon, left_out)


def _read_lexicon(data: Any) -> tuple[Lexicon, list[str]]:
    """The project's lexicon, and what of it was left out: an entry that cannot be read is said,
    never fatal (the lines and takes are still the project's), and the others are kept."""
    where = f"in {PROJECT_FILE}"
    try:
        return from_document(data, where)
    except InvalidLexiconFile as error:
        damage = error.problem
    entries = data.get("entries") if isinstance(data, dict) else None
    placed = []
    for number, item in enumerate(entries if isinstance(entries, list) else (), 1):
        try:
            (entry,) = from_document({**data, "entries": [item]}, where)[0].entries
        except InvalidLexiconFile:
            continue
        placed.append((f"entry {number}", entry))
    lexicon, problems = first_of_each(placed)
    if not lexicon.entries:
        said = (f"The project's lexicon cannot be read: {damage} The project opens without a lexicon; saving it "
                "leaves the damaged lexicon out for good.")
    else:
        others = "entry is" if len(lexicon.entries) == 1 else "entries are"
        said = (f"Part of the project's lexicon cannot be read: {damage} What cannot be read is left out (the "
                f"{len(lexicon.entries)} other {others} kept); saving the project leaves it out for good.")
    return lexicon, [said, *[f"In the project's lexicon, {problem}" for problem in problems]]


def _read_checks(data: dict[str, Any]) -> dict[str, CheckedTake]:
    """The takes' checks; one that cannot be read is left out: the studio checks that take again,
    so damaged checks must not lose the project."""
    found = {}
    for take_id, entry in data.items():
        try:
            found[take_id] = CheckedTake(str(entry["depends_on"]), report_from_json(entry["report"]))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _read_speaker(data: dict[str, Any], where: str, folder: Path) -> SpeakerProfile:
    voice = checked(data, "voice", (dict, type(None)), where)
    with refused_at(where):
        return SpeakerProfile(checked(data, "name", str, where), checked(data, "colour", str, where),
                              voice and _read_voice(voice, f"{where}.voice", folder))


def _read_voice(data: dict[str, Any], where: str, folder: Path) -> VoiceReference:
    audio = _read_audio(checked(data, "audio", dict, where), f"{where}.audio", folder)
    with refused_at(where):
        return VoiceReference(audio, checked(data, "words", list, where), checked(data, "transcript", str, where))


def _read_line(data: Any, where: str) -> DialogueLine:
    speaker = checked(data, "speaker", str, where)
    if speaker not in Speaker._value2member_map_:
        raise InvalidField(f"{where}.speaker", f"is {speaker!r}; a line is spoken by S1 or S2")
    with refused_at(where):
        return DialogueLine(Speaker(speaker), checked(data, "text", str, where), checked(data, "id", str, where))


def _read_take(data: Any, where: str, folder: Path) -> Take:
    created = checked(data, "created", str, where)
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError:
        raise InvalidField(f"{where}.created", f"is {created!r}, not an ISO 8601 time") from None
    source_lines = [_read_line(item, f"{where}.lines[{i}]")
                    for i, item in enumerate(checked(data, "lines", list, where))]
    audio = _read_audio(checked(data, "audio", dict, where), f"{where}.audio", folder)
    codes = data.get("codes") and _read_codes(checked(data, "codes", dict, where), f"{where}.codes", folder)
    model = checked(data, "model", (str, type(None)), where) if "model" in data else None
    respelled = checked(data, "respelled", dict, where) if "respelled" in data else {}
    with refused_at(where):
        return Take(GenerationParams.from_dict(checked(data, "params", dict, where)), audio, source_lines,
                    checked(data, "words", list, where), checked(data, "line_times", dict, where),
                    checked(data, "id", str, where), created_at, codes, model, respelled)


def _read_codes(data: dict[str, Any], where: str, folder: Path) -> np.ndarray | None:
    """The take's codes, or None when their file is missing or damaged: they only spare encoding
    the take's audio again, so losing them must not lose the project."""
    name = checked(data, "file", str, where)
    shape = (checked(data, "codebooks", int, where), checked(data, "frames", int, where))
    if not CODES_NAME.fullmatch(name):
        raise InvalidField(f"{where}.file", f"is {name!r}; it should name a file in the audio folder, "
                           f"like '{AUDIO_DIR}/<id>.codes.npy'")
    try:
        codes = np.load(folder / name, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if codes.shape != shape or not np.issubdtype(codes.dtype, np.integer):
        return None
    return codes


def _read_audio(data: dict[str, Any], where: str, folder: Path) -> AudioClip:
    name = checked(data, "file", str, where)
    sample_rate = checked(data, "sample_rate", int, where)
    frames = checked(data, "frames", int, where)
    match = AUDIO_NAME.fullmatch(name)
    if not match:
        raise InvalidField(f"{where}.file", f"is {name!r}; it should name a file in the audio folder, "
                           f"like '{AUDIO_DIR}/<id>.flac'")
    path = (folder / name).resolve()  # one spelling, so _release finds the clips of a file
    if not path.is_file():
        raise InvalidField(f"{where}.file", f"names {name}, which is missing from the project")
    try:
        info = soundfile.info(str(path))
    except RuntimeError:  # soundfile's LibsndfileError
        raise InvalidField(f"{where}.file", f"names {name}, which is not a readable audio file") from None
    if (info.channels, info.samplerate, info.frames) != (1, sample_rate, frames):
        raise InvalidField(f"{where}.file", f"names {name}, which holds {info.frames} frames at "
                           f"{info.samplerate} Hz in {info.channels} channel(s); the project expects "
                           f"{frames} mono frames at {sample_rate} Hz")
    with refused_at(where):
        clip = AudioClip(sample_rate, frames, partial(_read_samples, path), clip_id=match[1], file=path)
    track(clip)
    return clip


def _read_samples(path: Path) -> np.ndarray:
    try:
        samples, _ = soundfile.read(str(path), dtype="float32")
    except (OSError, RuntimeError) as error:
        raise ProjectFileError(f"Cannot read the audio file {path}: {error}.") from None
    samples.flags.writeable = False
    return samples
