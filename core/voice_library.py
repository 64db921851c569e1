"""The voice library: voices saved once and given to a speaker of any project later.

A folder (the studio keeps it in its data folder) with one folder per saved voice::

    <slug>-<id>/
      voice.flac   the clip, mono 24-bit FLAC at its own sample rate (as projects store clips)
      voice.json   {"format_version": 1, "name": str, "transcript": str,
                    "words": [[word, start_s, end_s], ...], "source": str,
                    "created": ISO 8601 time with zone, "sample_rate": int, "frames": int}

A voice is written into a hidden staging folder and renamed into place once whole, so the library
holds a complete voice or none (a crash leaves only a hidden folder, which listing skips). Names
are the person's, unique ignoring case; a taken name gets a number: "Maya (2)". A damaged entry
is listed apart with what is wrong, so the other voices stay usable.

A voice goes to another studio as one file (``export`` and ``import_package``: core/voice_package.py
says what the file holds); an import is checked whole before it is saved as any other voice is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from core.audio.atomic_write import write_atomically
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip, timed_words
from core.document.ids import new_id
from core.document.speakers import VoiceReference
from core.errors import DiaStudioError
from core.voice_package import read_voice_package, write_voice_package

FORMAT_VERSION = 1
AUDIO_FILE = "voice.flac"
INFO_FILE = "voice.json"
MAX_NAME_LENGTH = 60
_STAGING_SUFFIX = ".partial"
_SLUG_LENGTH = 30


class VoiceLibraryError(DiaStudioError):
    """The library could not do what was asked; the message says why."""


class InvalidVoiceName(VoiceLibraryError, ValueError):
    """A name a saved voice cannot have (empty, too long, control characters)."""


class DamagedLibraryVoice(VoiceLibraryError):
    """A saved voice whose files are missing or unreadable."""


@dataclass(frozen=True)
class LibraryVoice:
    """A saved voice as listed: what it says and how long it is, not its audio yet."""

    id: str  # its folder's name: stable, unlike the position in the sorted list
    name: str
    transcript: str
    words: tuple[TimedWord, ...]
    source: str  # where it came from, in words ("Maya in Interview")
    created: datetime
    duration_s: float


@dataclass(frozen=True)
class DamagedVoice:
    """An entry that cannot be read; it can still be deleted."""

    id: str
    problem: str


@dataclass(frozen=True)
class LibraryListing:
    voices: tuple[LibraryVoice, ...]  # sorted by name, ignoring case
    damaged: tuple[DamagedVoice, ...]


def checked_name(name: object) -> str:
    """The name with its runs of spaces made single; raises :class:`InvalidVoiceName`."""
    if not isinstance(name, str):
        raise InvalidVoiceName(f"A voice's name must be text, not {name!r}.")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidVoiceName("Give the voice a name.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidVoiceName(f"A voice's name has at most {MAX_NAME_LENGTH} characters; "
                               f"“{cleaned[:20]}…” has {len(cleaned)}.")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in cleaned):
        raise InvalidVoiceName("A voice's name cannot contain control characters.")
    return cleaned


class VoiceLibrary:
    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    # --- reading ---------------------------------------------------------------------------------

    def listing(self) -> LibraryListing:
        """Every saved voice, and the entries that cannot be read."""
        voices, damaged = [], []
        for entry in self._entry_folders():
            try:
                voices.append(self._read_entry(entry)[0])
            except DamagedLibraryVoice as error:
                damaged.append(DamagedVoice(entry.name, str(error)))
        voices.sort(key=lambda voice: (voice.name.casefold(), voice.created))
        return LibraryListing(tuple(voices), tuple(sorted(damaged, key=lambda d: d.id)))

    def load(self, voice_id: str) -> VoiceReference:
        """The saved voice as a speaker's voice, its audio read into memory (so deleting it from
        the library later takes nothing from a project)."""
        entry = self._entry(voice_id)
        voice, info = self._read_entry(entry)
        path = entry / AUDIO_FILE
        try:
            samples, _ = soundfile.read(str(path), dtype="float32")
        except (OSError, RuntimeError) as error:  # RuntimeError: soundfile's LibsndfileError
            raise DamagedLibraryVoice(f"The saved voice “{voice.name}” cannot be read: {error}.") from None
        if samples.ndim != 1 or len(samples) != info["frames"]:
            raise DamagedLibraryVoice(f"The saved voice “{voice.name}” is damaged: its audio file "
                                      "does not hold what its description says.")
        return VoiceReference(AudioClip.from_samples(samples, info["sample_rate"]), voice.words,
                              voice.transcript)

    def free_name(self, name: str) -> str:
        """``name`` if no saved voice has it (ignoring case), else the first free "name (n)"."""
        name = checked_name(name)
        taken = {voice.name.casefold() for voice in self.listing().voices}
        candidate, number = name, 2
        while candidate.casefold() in taken:
            suffix = f" ({number})"
            candidate = name[:MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix
            number += 1
        return candidate

    # --- writing ---------------------------------------------------------------------------------

    def save(self, name: str, voice: VoiceReference, source: str = "",
             created: datetime | None = None) -> LibraryVoice:
        """Save a copy of ``voice`` under ``name`` (numbered if taken); returns it as listed.
        ``created``: when the voice was first saved (an imported one keeps its own), else now."""
        name = self.free_name(name)
        voice_id = f"{_slug(name)}-{new_id()[:8]}"
        staging = self.folder / f".{voice_id}{_STAGING_SUFFIX}"
        samples = np.clip(voice.audio.samples(), -1.0, 1.0)  # FLAC keeps ±1; some encoders wrap beyond
        info = {
            "format_version": FORMAT_VERSION,
            "name": name,
            "transcript": voice.transcript,
            "words": [[word.text, word.start_s, word.end_s] for word in voice.words],
            "source": source,
            "created": (created or datetime.now(UTC)).isoformat(),
            "sample_rate": voice.audio.sample_rate,
            "frames": len(samples),
        }
        try:
            staging.mkdir(parents=True)
            write_atomically(staging / AUDIO_FILE, lambda path: soundfile.write(
                path, samples, voice.audio.sample_rate, format="FLAC", subtype="PCM_24"))
            document = json.dumps(info, indent=2, ensure_ascii=False).encode("utf-8")
            write_atomically(staging / INFO_FILE, lambda path: path.write_bytes(document))
            os.rename(staging, self.folder / voice_id)
        except (OSError, RuntimeError) as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise VoiceLibraryError(f"Could not save “{name}” to the voice library in {self.folder}: "
                                    f"{getattr(error, 'strerror', None) or error}.") from error
        return self._read_entry(self.folder / voice_id)[0]

    def export(self, voice_id: str, path: Path) -> None:
        """Write the saved voice as a voice package at ``path`` (its clip's FLAC as saved, unchanged)."""
        entry = self._entry(voice_id)
        voice, _ = self._read_entry(entry)
        try:
            flac = (entry / AUDIO_FILE).read_bytes()
            write_voice_package(path, name=voice.name, transcript=voice.transcript, words=voice.words,
                                source=voice.source, created=voice.created, flac=flac)
        except OSError as error:
            raise VoiceLibraryError(f"Could not export “{voice.name}” to {path}: "
                                    f"{error.strerror or error}.") from error

    def import_package(self, path: Path) -> LibraryVoice:
        """Save the voice of the package at ``path`` (its name numbered if taken). The whole package
        is checked in memory first, so a refused one (a VoicePackageError) changes nothing here."""
        packaged = read_voice_package(path)
        try:
            name = checked_name(packaged.name)
        except InvalidVoiceName as error:
            raise InvalidVoiceName(f"The voice in “{Path(path).name}” cannot be imported: {error}") from None
        voice = VoiceReference(AudioClip.from_samples(packaged.samples, packaged.sample_rate), packaged.words,
                               packaged.transcript)
        return self.save(name, voice, packaged.source, packaged.created)

    def delete(self, voice_id: str) -> None:
        """Remove a saved voice (a damaged one too)."""
        entry = self._entry(voice_id)
        # Renamed aside first, so a half-deleted voice never shows up as a damaged one.
        doomed = self.folder / f".{voice_id}.deleting"
        try:
            os.rename(entry, doomed)
        except OSError as error:
            raise VoiceLibraryError(f"Could not delete the saved voice in {entry}: "
                                    f"{error.strerror or error}.") from error
        shutil.rmtree(doomed, ignore_errors=True)

    # --- entries ---------------------------------------------------------------------------------

    def _entry_folders(self) -> list[Path]:
        try:
            return [entry for entry in self.folder.iterdir()
                    if entry.is_dir() and not entry.name.startswith(".")]
        except FileNotFoundError:
            return []  # nothing saved yet
        except OSError as error:
            raise VoiceLibraryError(f"Cannot read the voice library in {self.folder}: "
                                    f"{error.strerror or error}.") from error

    def _entry(self, voice_id: str) -> Path:
        entry = self.folder / voice_id
        if not voice_id or voice_id.startswith(".") or Path(voice_id).name != voice_id or not entry.is_dir():
            raise VoiceLibraryError(f"The voice library has no voice {voice_id!r} (deleted meanwhile?).")
        return entry

    def _read_entry(self, entry: Path) -> tuple[LibraryVoice, dict[str, Any]]:
        """The entry as listed and its checked description; raises DamagedLibraryVoice."""
        def damaged(problem: str) -> DamagedLibraryVoice:
            return DamagedLibraryVoice(f"The saved voice in {entry.name} is damaged: {problem}.")

        try:
            info = json.loads((entry / INFO_FILE).read_bytes())
        except FileNotFoundError:
            raise damaged(f"{INFO_FILE} is missing") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise damaged(f"{INFO_FILE} cannot be read ({error})") from None
        if not isinstance(info, dict):
            raise damaged(f"{INFO_FILE} is not a JSON object")
        for key, kind in (("format_version", int), ("name", str), ("transcript", str), ("words", list),
                          ("source", str), ("created", str), ("sample_rate", int), ("frames", int)):
            if not isinstance(info.get(key), kind) or isinstance(info.get(key), bool):
                raise damaged(f"{INFO_FILE} lacks a valid “{key}”")
        if info["format_version"] > FORMAT_VERSION:
            raise damaged(f"it was saved by a newer Dia Studio (format {info['format_version']}); "
                          "update Dia Studio to use it")
        try:
            name = checked_name(info["name"])
            words = timed_words(info["words"])
            created = datetime.fromisoformat(info["created"])
        except (DiaStudioError, ValueError) as error:
            raise damaged(str(error).rstrip(".")) from None
        if created.tzinfo is None:
            raise damaged("its creation time lacks a time zone")
        if info["sample_rate"] <= 0 or info["frames"] <= 0:
            raise damaged(f"{INFO_FILE} gives {info['frames']} frames at {info['sample_rate']} Hz")
        try:
            audio = soundfile.info(str(entry / AUDIO_FILE))
        except (OSError, RuntimeError):
            raise damaged(f"{AUDIO_FILE} is missing or is not readable audio") from None
        if (audio.channels, audio.samplerate, audio.frames) != (1, info["sample_rate"], info["frames"]):
            raise damaged(f"{AUDIO_FILE} holds {audio.frames} frames at {audio.samplerate} Hz in "
                          f"{audio.channels} channel(s), not the {info['frames']} mono frames at "
                          f"{info['sample_rate']} Hz described")
        voice = LibraryVoice(entry.name, name, info["transcript"], words, info["source"], created,
                             info["frames"] / info["sample_rate"])
        return voice, info


def _slug(name: str) -> str:
    """A folder-name-safe reminder of the name (the name itself lives in voice.json)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_SLUG_LENGTH].strip("-")
    return slug or "voice"
