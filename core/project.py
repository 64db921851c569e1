"""Save and open a dialogue as a project folder: atomic, versioned, validated on the way in.

A project is a folder ``Name.diastudio/``::

    project.json    the document, replaced atomically on every save (schema below)
    audio/          one FLAC file per clip (voice references and takes): <clip id>.flac, and the
                    codes a take was decoded from: <its clip id>.codes.npy

``project.json``, format_version 2 (times in seconds from the start of their clip)::

    {
      "format_version": 2,
      "speakers": {"S1": SPEAKER, "S2": SPEAKER},
      "params": {...},                  GenerationParams.to_dict(): the API's own field names
      "lines": [LINE, ...],             in dialogue order
      "takes": [TAKE, ...],             oldest first
      "kept_takes": {"<line id>": "<take id>", ...}   the take kept for each line (that speaks it)
    }
    SPEAKER = {"name": str, "colour": "#rrggbb",
               "voice": null or {"audio": AUDIO, "words": WORDS, "transcript": str}}
    LINE    = {"id": str, "speaker": "S1" or "S2", "text": str}
    TAKE    = {"id": str, "created": ISO 8601 time with zone, "params": {... with "seed"},
               "audio": AUDIO, "lines": [LINE, ...] (the lines as they were when it was made),
               "words": WORDS, "line_times": {"<line id>": [start_s, end_s], ...},
               "codes": CODES (optional: absent in files saved before codes were kept),
               "model": the model that made it, a Hub id or a local folder's path (optional:
               absent in files saved before it was kept, or null)}
    AUDIO   = {"file": "audio/<clip id>.flac", "sample_rate": int, "frames": int}
    WORDS   = [[word, start_s, end_s], ...]
    CODES   = null, or {"file": "audio/<take's clip id>.codes.npy", "codebooks": int, "frames": int}:
              the Mimi codes the take's audio was decoded from, an int16 NumPy array [codebooks,
              frames], so that selected lines continue from the lines before them exactly; a
              missing or damaged codes file only loses the codes (the audio is encoded again)

Format 1 kept one take for the whole dialogue (``"picked_take": "<take id>" or null``): it is read
as that take kept for the lines it speaks, and the newest take that speaks it for every other line.

Audio is FLAC, 24-bit: within 2^-23 (about 1.2e-7) of the model's float32 samples, far below
hearing, at about half the size of float WAV. Samples beyond ±1 are clipped.

A save writes new audio files under new names first, then replaces project.json, and only then
removes audio files nothing refers to, so a crash at any point leaves the previous save (or the
new one) whole. A save that fails before project.json (a full disk) deletes the files and folders
it made, so the previous save is left exactly as it was. Autosave writes the same format into a recovery folder, in two steps so the writing
can happen on another thread: ``prepare_autosave`` takes the document's content (immutable values,
audio included, so it costs no copy) and ``write_autosave`` writes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import soundfile

from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.errors import DialogueError
from core.document.ids import new_id
from core.document.lines import DialogueLine
from core.document.speakers import Speaker, SpeakerProfile, VoiceReference
from core.document.takes import Take
from core.errors import DiaStudioError, InvalidParameter
from core.params import GenerationParams

FORMAT_VERSION = 2
PROJECT_SUFFIX = ".diastudio"
PROJECT_FILE = "project.json"
AUDIO_DIR = "audio"
RECOVERY_FILE = "recovery.json"
RECENT_FILE = "recent_projects.json"
RECENT_LIMIT = 10

_AUDIO_NAME = re.compile(rf"{AUDIO_DIR}/([0-9A-Za-z_-]+)\.flac")
_CODES_NAME = re.compile(rf"{AUDIO_DIR}/[0-9A-Za-z_-]+\.codes\.npy")


class ProjectFileError(DiaStudioError):
    """A project that cannot be opened or saved; the message names the file and what is wrong."""


class _Invalid(Exception):
    """A problem at a place in project.json, turned into a ProjectFileError naming the project."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where} {problem}")


# Clips read from files, so a file can be released before it is deleted (see keep_in_memory).
# Autosaves read it on their own thread while the GUI thread opens projects, hence the lock.
_clips_in_files: weakref.WeakSet[AudioClip] = weakref.WeakSet()
_clips_in_files_lock = threading.Lock()


@dataclass(frozen=True)
class DocumentContent:
    """What a save writes, as the document held it at one moment. Lines, speakers, takes and
    their audio are immutable values, so another thread may write it while editing goes on."""

    lines: tuple[DialogueLine, ...]
    speakers: Mapping[Speaker, SpeakerProfile]
    params: GenerationParams
    takes: tuple[Take, ...]
    kept_takes: Mapping[str, str]

    @classmethod
    def of(cls, dialogue: Dialogue) -> DocumentContent:
        return cls(dialogue.lines, dialogue.speakers, dialogue.params, dialogue.takes, dialogue.kept_takes)


# --- saving ---------------------------------------------------------------------------------

def save_project(dialogue: Dialogue, folder: Path | str) -> None:
    """Save the document into the project folder (created if needed) and mark it saved."""
    _write_project(DocumentContent.of(dialogue), Path(folder))
    dialogue.mark_saved()


def _write_project(document: DocumentContent, folder: Path, release_clips: bool = True) -> None:
    if folder.is_dir():
        entries = {entry.name for entry in folder.iterdir()}
        if entries and not entries & {PROJECT_FILE, AUDIO_DIR}:
            raise ProjectFileError(f"Cannot save to {folder}: the folder is not empty and is not "
                                   "a Dia Studio project.")
    clips = {clip.id: clip for clip in _clips_of(document)}
    coded = [take for take in document.takes if take.codes is not None]
    audio_dir = folder / AUDIO_DIR
    created = _outermost_missing(audio_dir)
    written: list[Path] = []
    with _saving(folder, " Nothing on disk was changed."):
        try:
            audio_dir.mkdir(parents=True, exist_ok=True)
            for clip in clips.values():
                _write_once(audio_dir / _file_name(clip), partial(_clip_bytes, clip), written)
            for take in coded:
                _write_once(audio_dir / _codes_name(take), partial(_codes_bytes, take.codes), written)
            _sync_folder(audio_dir)
            text = json.dumps(_document_json(document), indent=2, ensure_ascii=False)
            _replace(folder / PROJECT_FILE, text.encode("utf-8"))  # from here on, the new save is the project
        except BaseException:
            _take_back(written, created)
            raise
    with _saving(folder):
        _sync_folder(folder)
    used = {_file_name(clip) for clip in clips.values()} | {_codes_name(take) for take in coded}
    _remove_leftovers(folder, used, release_clips)


@contextmanager
def _saving(path: Path, outcome: str = "") -> Iterator[None]:
    """Report a failed write (disk full, no permission) as a ProjectFileError naming ``path``;
    ``outcome`` tells what became of what was on disk."""
    try:
        yield
    except OSError as error:
        raise ProjectFileError(f"Could not save {path}: {_os_problem(error)}.{outcome}") from error


def _os_problem(error: OSError) -> str:
    problem = error.strerror or str(error)
    return f"{problem} ({error.filename})" if error.filename else problem


def _outermost_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` that does not exist yet (None: it all exists)."""
    missing = None
    while not path.exists():
        missing, path = path, path.parent
    return missing


def _take_back(written: list[Path], created: Path | None) -> None:
    """Undo a save that failed before its project.json: delete the files it wrote and the folders
    it made, so the previous save stays as it was and a new project leaves no empty folder."""
    for file in written:
        file.unlink(missing_ok=True)
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)


def _clips_of(document: DocumentContent) -> list[AudioClip]:
    voices = [profile.voice.audio for profile in document.speakers.values() if profile.voice]
    return voices + [take.audio for take in document.takes]


def _file_name(clip: AudioClip) -> str:
    return f"{clip.id}.flac"


def _codes_name(take: Take) -> str:
    return f"{take.audio.id}.codes.npy"  # a take's clip is its own, and so are its codes


def _write_once(target: Path, content: Callable[[], bytes], written: list[Path]) -> None:
    """Write ``target`` with ``content()`` unless it is there already (what a clip or a take's
    codes hold never changes); a file written is added to ``written``."""
    if target.exists():
        return
    partial_file = target.with_name(f".{target.name}.partial")
    try:
        _write_new_file(partial_file, content())
        os.replace(partial_file, target)
    finally:
        partial_file.unlink(missing_ok=True)
    written.append(target)


def _clip_bytes(clip: AudioClip) -> bytes:
    if clip.file is not None:
        return clip.file.read_bytes()
    return _flac_bytes(clip.samples(), clip.sample_rate)


def _flac_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    # Clip explicitly: some libsndfile versions wrap out-of-range floats instead.
    return _in_memory(partial(soundfile.write, data=np.clip(samples, -1.0, 1.0), samplerate=sample_rate,
                              format="FLAC", subtype="PCM_24"))


def as_stored(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The samples as a project keeps them (24-bit FLAC, read back; reading them back again
    changes nothing). A take that holds these from the start plays and exports before a save
    exactly as the saved project does, in the window or on the command line."""
    if not len(samples):
        return samples
    stored, _ = soundfile.read(io.BytesIO(_flac_bytes(samples, sample_rate)), dtype="float32")
    return stored


def _codes_bytes(codes: np.ndarray) -> bytes:
    return _in_memory(partial(np.save, arr=codes, allow_pickle=False))


def _in_memory(write: Callable[[io.BytesIO], None]) -> bytes:
    """What ``write(file)`` writes, encoded in memory: soundfile writes a file object through a C
    callback that swallows its OSError (a full disk came out as an AssertionError), so the bytes
    go to disk in _write_new_file, where the error surfaces."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def _write_new_file(path: Path, data: bytes) -> None:
    """Create (or truncate) ``path`` holding ``data``, on disk when this returns. Every byte a save
    stores goes through this os.write loop, so a full disk ends here as an OSError (ENOSPC)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        rest = memoryview(data)
        while rest:
            rest = rest[os.write(descriptor, rest):]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half."""
    _replace(path, data)
    _sync_folder(path.parent)


def _replace(path: Path, data: bytes) -> None:
    """Put ``data`` in place of ``path`` by a rename (durable once the folder is synced)."""
    temp = path.with_name(f".{path.name}.{new_id()}.tmp")
    try:
        _write_new_file(temp, data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make renames into ``folder`` durable; Windows cannot open a folder and needs no such step."""
    if os.name == "posix":
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove_leftovers(folder: Path, used_audio: set[str], release_clips: bool) -> None:
    """Delete audio files the saved project no longer uses, and temp files of interrupted saves.

    Without ``release_clips`` (an autosave, off the GUI thread, which must not change the clips
    the window reads), a file a live clip still reads from is left for a later save."""
    unused = [file for file in (folder / AUDIO_DIR).iterdir() if file.name not in used_audio]
    for file in unused + list(folder.glob(f".{PROJECT_FILE}.*.tmp")):
        path = file.resolve()
        try:
            if release_clips:
                _release(lambda clip, path=path: clip.file == path)
            elif _clips_reading(lambda clip, path=path: clip.file == path):
                continue
            file.unlink()
        except (OSError, ProjectFileError):
            pass  # the save itself succeeded; a later save tries again


def _clips_reading(matches: Callable[[AudioClip], bool]) -> list[AudioClip]:
    """The live clips read from a file that ``matches``."""
    with _clips_in_files_lock:
        clips = list(_clips_in_files)
    return [clip for clip in clips if clip.file is not None and matches(clip)]


def _release(matches: Callable[[AudioClip], bool]) -> None:
    """Load into memory the live clips whose files are about to be deleted (undo may need them)."""
    for clip in _clips_reading(matches):
        clip.keep_in_memory()


def _document_json(document: DocumentContent) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "speakers": {speaker.value: _speaker_json(document.speakers[speaker]) for speaker in Speaker},
        "params": document.params.to_dict(),
        "lines": [_line_json(line) for line in document.lines],
        "takes": [_take_json(take) for take in document.takes],
        # Only the lines of the document: a deleted line's take matters to undo, not to the file.
        "kept_takes": {line.id: document.kept_takes[line.id] for line in document.lines
                       if line.id in document.kept_takes},
    }


def _speaker_json(profile: SpeakerProfile) -> dict[str, Any]:
    voice = profile.voice
    return {
        "name": profile.name,
        "colour": profile.colour,
        "voice": voice and {"audio": _audio_json(voice.audio), "words": _words_json(voice.words),
                            "transcript": voice.transcript},
    }


def _line_json(line: DialogueLine) -> dict[str, Any]:
    return {"id": line.id, "speaker": line.speaker.value, "text": line.text}


def _take_json(take: Take) -> dict[str, Any]:
    return {
        "id": take.id,
        "created": take.created.isoformat(),
        "params": take.params.to_dict(),
        "audio": _audio_json(take.audio),
        "lines": [_line_json(line) for line in take.source_lines],
        "words": _words_json(take.words),
        "line_times": {line_id: list(span) for line_id, span in take.line_times.items()},
        "codes": None if take.codes is None else {"file": f"{AUDIO_DIR}/{_codes_name(take)}",
                                                  "codebooks": int(take.codes.shape[0]),
                                                  "frames": int(take.codes.shape[1])},
        "model": take.model,
    }


def _words_json(words) -> list[list]:
    return [[word.text, word.start_s, word.end_s] for word in words]


def _audio_json(clip: AudioClip) -> dict[str, Any]:
    return {"file": f"{AUDIO_DIR}/{_file_name(clip)}", "sample_rate": clip.sample_rate,
            "frames": clip.frame_count}


# --- opening --------------------------------------------------------------------------------

def project_folder(path: Path | str) -> Path:
    """The project folder ``path`` names: the folder itself, or the folder of its project.json."""
    path = Path(path)
    return path.parent if path.name == PROJECT_FILE else path


def project_name(folder: Path | str) -> str:
    """What a project is called (the window's title, an export's): its folder's name, without ``.diastudio``."""
    return Path(folder).name.removesuffix(PROJECT_SUFFIX)


def open_project(folder: Path | str) -> Dialogue:
    """The document saved in the project folder; :class:`ProjectFileError` says what is wrong."""
    folder = Path(folder)
    file = folder / PROJECT_FILE
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(f"{folder} is not a Dia Studio project: it has no {PROJECT_FILE}.") from None
    except OSError as error:
        raise ProjectFileError(f"Cannot read {file}: {_os_problem(error)}.") from error
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectFileError(f"Cannot open {folder}: {PROJECT_FILE} is damaged ({error}).") from None
    try:
        return _read_dialogue(migrate(data), folder)
    except _Invalid as problem:
        raise ProjectFileError(f"Cannot open {folder}: in {PROJECT_FILE}, {problem}.") from None


def _kept_takes_of_picked(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 → 2: the one picked take becomes the take kept for each line it speaks (the
    document gives every other line the newest take that speaks it, as format 1 did)."""
    picked = _get(data, "picked_take", (str, type(None)), "")
    lines_of = {}
    for index, take in enumerate(_get(data, "takes", list, "")):
        where = f"takes[{index}]"
        lines_of[_get(take, "id", str, where)] = [_get(line, "id", str, f"{where}.lines[{number}]")
                                                  for number, line in enumerate(_get(take, "lines", list, where))]
    if picked is not None and picked not in lines_of:
        raise _Invalid("picked_take", f"is {picked!r}, which is not one of the takes")
    migrated = {key: value for key, value in data.items() if key != "picked_take"}
    migrated["kept_takes"] = {line_id: picked for line_id in lines_of.get(picked, ())}
    return migrated


# format_version N -> N + 1, applied in turn to files older than FORMAT_VERSION.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _kept_takes_of_picked}


def migrate(data: Any) -> dict[str, Any]:
    """Bring a project.json of an older format up to FORMAT_VERSION, one step at a time."""
    version = _get(data, "format_version", int, "")
    if version > FORMAT_VERSION:
        raise _Invalid("format_version", f"is {version}: the project was saved by a newer Dia Studio "
                       f"(this one reads up to {FORMAT_VERSION}); update Dia Studio to open it")
    while version < FORMAT_VERSION:
        if version not in MIGRATIONS:
            raise _Invalid("format_version", f"is {version}, which no Dia Studio version wrote")
        data = MIGRATIONS[version](data)
        version += 1
        data["format_version"] = version
    return data


def _get(data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]``, checked to be of ``kind``; ``where`` is the JSON path of ``data``."""
    place = f"{where}.{key}" if where else key
    if not isinstance(data, dict):
        raise _Invalid(where or "the file", "should be a JSON object")
    if key not in data:
        raise _Invalid(place, "is missing")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) or not isinstance(value, kinds):  # no field is a bool; True is no 1
        names = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise _Invalid(place, f"should be {names}, not {json.dumps(value)[:60]}")
    return value


_KIND_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "an object", type(None): "null"}


@contextmanager
def _at(where: str) -> Iterator[None]:
    """Report a value the document refuses as a problem at ``where``."""
    try:
        yield
    except (DialogueError, InvalidParameter) as error:
        raise _Invalid(where, f"is not valid: {error}") from None


def _read_dialogue(data: dict[str, Any], folder: Path) -> Dialogue:
    speakers = _get(data, "speakers", dict, "")
    profiles = {speaker: _read_speaker(_get(speakers, speaker.value, dict, "speakers"),
                                       f"speakers.{speaker.value}", folder) for speaker in Speaker}
    with _at("params"):
        params = GenerationParams.from_dict(_get(data, "params", dict, ""))
    lines = [_read_line(item, f"lines[{i}]") for i, item in enumerate(_get(data, "lines", list, ""))]
    takes = [_read_take(item, f"takes[{i}]", folder) for i, item in enumerate(_get(data, "takes", list, ""))]
    kept = _get(data, "kept_takes", dict, "")
    kept = {line_id: _get(kept, line_id, str, "kept_takes") for line_id in kept}
    with _at("the document"):
        return Dialogue(lines, profiles, params, takes, kept)


def _read_speaker(data: dict[str, Any], where: str, folder: Path) -> SpeakerProfile:
    voice = _get(data, "voice", (dict, type(None)), where)
    with _at(where):
        return SpeakerProfile(_get(data, "name", str, where), _get(data, "colour", str, where),
                              voice and _read_voice(voice, f"{where}.voice", folder))


def _read_voice(data: dict[str, Any], where: str, folder: Path) -> VoiceReference:
    audio = _read_audio(_get(data, "audio", dict, where), f"{where}.audio", folder)
    with _at(where):
        return VoiceReference(audio, _get(data, "words", list, where), _get(data, "transcript", str, where))


def _read_line(data: Any, where: str) -> DialogueLine:
    speaker = _get(data, "speaker", str, where)
    if speaker not in Speaker._value2member_map_:
        raise _Invalid(f"{where}.speaker", f"is {speaker!r}; a line is spoken by S1 or S2")
    with _at(where):
        return DialogueLine(Speaker(speaker), _get(data, "text", str, where), _get(data, "id", str, where))


def _read_take(data: Any, where: str, folder: Path) -> Take:
    created = _get(data, "created", str, where)
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError:
        raise _Invalid(f"{where}.created", f"is {created!r}, not an ISO 8601 time") from None
    source_lines = [_read_line(item, f"{where}.lines[{i}]")
                    for i, item in enumerate(_get(data, "lines", list, where))]
    audio = _read_audio(_get(data, "audio", dict, where), f"{where}.audio", folder)
    codes = data.get("codes") and _read_codes(_get(data, "codes", dict, where), f"{where}.codes", folder)
    model = _get(data, "model", (str, type(None)), where) if "model" in data else None
    with _at(where):
        return Take(GenerationParams.from_dict(_get(data, "params", dict, where)), audio, source_lines,
                    _get(data, "words", list, where), _get(data, "line_times", dict, where),
                    _get(data, "id", str, where), created_at, codes, model)


def _read_codes(data: dict[str, Any], where: str, folder: Path) -> np.ndarray | None:
    """The take's codes, or None when their file is missing or damaged: they only spare encoding
    the take's audio again, so losing them must not lose the project."""
    name = _get(data, "file", str, where)
    shape = (_get(data, "codebooks", int, where), _get(data, "frames", int, where))
    if not _CODES_NAME.fullmatch(name):
        raise _Invalid(f"{where}.file", f"is {name!r}; it should name a file in the audio folder, "
                       f"like '{AUDIO_DIR}/<id>.codes.npy'")
    try:
        codes = np.load(folder / name, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if codes.shape != shape or not np.issubdtype(codes.dtype, np.integer):
        return None
    return codes


def _read_audio(data: dict[str, Any], where: str, folder: Path) -> AudioClip:
    name = _get(data, "file", str, where)
    sample_rate = _get(data, "sample_rate", int, where)
    frames = _get(data, "frames", int, where)
    match = _AUDIO_NAME.fullmatch(name)
    if not match:
        raise _Invalid(f"{where}.file", f"is {name!r}; it should name a file in the audio folder, "
                       f"like '{AUDIO_DIR}/<id>.flac'")
    path = (folder / name).resolve()  # one spelling, so _release finds the clips of a file
    if not path.is_file():
        raise _Invalid(f"{where}.file", f"names {name}, which is missing from the project")
    try:
        info = soundfile.info(str(path))
    except RuntimeError:  # soundfile's LibsndfileError
        raise _Invalid(f"{where}.file", f"names {name}, which is not a readable audio file") from None
    if (info.channels, info.samplerate, info.frames) != (1, sample_rate, frames):
        raise _Invalid(f"{where}.file", f"names {name}, which holds {info.frames} frames at "
                       f"{info.samplerate} Hz in {info.channels} channel(s); the project expects "
                       f"{frames} mono frames at {sample_rate} Hz")
    with _at(where):
        clip = AudioClip(sample_rate, frames, partial(_read_samples, path), clip_id=match[1], file=path)
    with _clips_in_files_lock:
        _clips_in_files.add(clip)
    return clip


def _read_samples(path: Path) -> np.ndarray:
    try:
        samples, _ = soundfile.read(str(path), dtype="float32")
    except (OSError, RuntimeError) as error:
        raise ProjectFileError(f"Cannot read the audio file {path}: {error}.") from None
    samples.flags.writeable = False
    return samples


# --- autosave and recovery ------------------------------------------------------------------

@dataclass(frozen=True)
class RecoveryCopy:
    """An autosaved copy of a document, for the project at ``project`` (None: never saved)."""

    folder: Path
    project: Path | None
    saved_at: datetime


# Untitled documents have no path to name their recovery copy after; each gets a name once.
_untitled_names: weakref.WeakKeyDictionary[Dialogue, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class PendingAutosave:
    """A recovery copy about to be written: the document's content and where it goes."""

    content: DocumentContent
    folder: Path
    project: Path | None


def prepare_autosave(dialogue: Dialogue, project: Path | str | None,
                     recovery_dir: Path | str) -> PendingAutosave:
    """Take what an autosave of the document writes; quick, so the GUI thread may call it."""
    if project is None:
        name = _untitled_names.setdefault(dialogue, f"untitled-{new_id()}")
    else:
        project = Path(project).absolute()
        name = f"{project.stem}-{hashlib.sha256(str(project).encode()).hexdigest()[:16]}"
    return PendingAutosave(DocumentContent.of(dialogue), Path(recovery_dir) / f"{name}{PROJECT_SUFFIX}",
                           project)


def write_autosave(pending: PendingAutosave) -> RecoveryCopy:
    """Write the recovery copy (the document stays unsaved); any thread may call it."""
    folder = pending.folder
    _write_project(pending.content, folder, release_clips=False)
    info = {"project": None if pending.project is None else str(pending.project)}
    with _saving(folder):
        _write_atomically(folder / RECOVERY_FILE, json.dumps(info).encode("utf-8"))
    return RecoveryCopy(folder, pending.project, _modified_at(folder / PROJECT_FILE))


def find_recoverable(recovery_dir: Path | str) -> list[RecoveryCopy]:
    """Recovery copies newer than their project (or of untitled documents), newest first."""
    copies = []
    for folder in Path(recovery_dir).glob(f"*{PROJECT_SUFFIX}"):
        try:
            project = json.loads((folder / RECOVERY_FILE).read_text("utf-8"))["project"]
            project = None if project is None else Path(project)
            saved_at = _modified_at(folder / PROJECT_FILE)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half written by a crash: nothing to offer
        if project is not None and (project / PROJECT_FILE).exists() \
                and _modified_at(project / PROJECT_FILE) >= saved_at:
            continue
        copies.append(RecoveryCopy(folder, project, saved_at))
    return sorted(copies, key=lambda copy: copy.saved_at, reverse=True)


def recover(copy: RecoveryCopy) -> Dialogue:
    """The document in a recovery copy, marked unsaved: saving it is up to the person."""
    dialogue = open_project(copy.folder)
    dialogue.mark_unsaved()
    if copy.project is None:  # its autosaves go on into this copy, not into a second one
        _untitled_names[dialogue] = copy.folder.name.removesuffix(PROJECT_SUFFIX)
    return dialogue


def discard_recovery(copy: RecoveryCopy) -> None:
    """Delete a recovery copy, e.g. after the document was saved or the person declined it."""
    _release(lambda clip: copy.folder.resolve() in clip.file.parents)
    shutil.rmtree(copy.folder, ignore_errors=True)


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)


# --- recent projects ------------------------------------------------------------------------

class RecentProjects:
    """Projects opened or saved lately, most recent first, kept in a small JSON file."""

    def __init__(self, config_dir: Path | str, limit: int = RECENT_LIMIT):
        self.file = Path(config_dir) / RECENT_FILE
        self.limit = limit

    def paths(self) -> list[Path]:
        """The recent projects that still exist."""
        try:
            stored = json.loads(self.file.read_text("utf-8"))["projects"]
            paths = [Path(item) for item in stored if isinstance(item, str)]
        except (OSError, ValueError, KeyError, TypeError):
            return []  # a damaged list only costs the shortcuts; it must not stop the app
        return [path for path in paths if (path / PROJECT_FILE).is_file()][:self.limit]

    def add(self, project: Path | str) -> None:
        project = Path(project).absolute()
        self._store([project] + [path for path in self.paths() if path != project])

    def remove(self, project: Path | str) -> None:
        project = Path(project).absolute()
        self._store([path for path in self.paths() if path != project])

    def _store(self, paths: list[Path]) -> None:
        data = {"projects": [str(path) for path in paths[:self.limit]]}
        with _saving(self.file):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.file, json.dumps(data, indent=2).encode("utf-8"))
