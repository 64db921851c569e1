"""A saved voice as one file (``.diavoice``) for another studio, or for ``--s1`` on the command line.

A voice package is a zip archive holding::

    manifest.json  {"format": "dia-studio-voice", "version": 1, "name": str,
                    "transcript": str, "source": str, "created": ISO 8601 time with zone,
                    "files": {member: {"sha256": hex digest, "bytes": int}, ...}}
    voice.flac     the clip, mono FLAC
    words.json     what is said in it: [[word, start_s, end_s], ...] (the --s1-words format; may be [])

Packages come from strangers, so reading one trusts nothing: the archive is read into memory, never
unpacked onto the disk; a member's path, kind, size (as declared and as decompressed, read with a
cap) and hash are checked before its content is used; anything unlisted is refused; the audio is
decoded with a cap on its length. Each refusal is an error of its own, whose message names the problem.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from core.audio.atomic_write import write_atomically
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import timed_words
from core.errors import DiaStudioError

PACKAGE_SUFFIX = ".diavoice"
FORMAT = "dia-studio-voice"
VERSION = 1
MANIFEST = "manifest.json"
AUDIO_MEMBER = "voice.flac"
WORDS_MEMBER = "words.json"
# The most each member may hold once decompressed: a voice clip lasts seconds (a library voice at
# most 20 s; 16 MiB is minutes of 24-bit FLAC), so anything bigger is a mistake or a zip bomb.
MEMBER_LIMITS = {MANIFEST: 256 * 1024, AUDIO_MEMBER: 16 * 1024 * 1024, WORDS_MEMBER: 1024 * 1024}
MAX_PACKAGE_BYTES = sum(MEMBER_LIMITS.values()) + 64 * 1024  # the members stored, and the zip's own records
MAX_MEMBERS = 16
MAX_AUDIO_SECONDS = 120.0  # FLAC packs silence into almost nothing: the decoded clip is capped too
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")
# Fixed, so that the same voice always makes the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class VoicePackageError(DiaStudioError):
    """A voice package that cannot be read or written; the subclasses say why."""


class NotAVoicePackage(VoicePackageError):
    """The file is not a zip archive, or not one of Dia Studio's voices."""


class DamagedVoicePackage(VoicePackageError):
    """The package's manifest or words are malformed, or the archive is corrupt."""


class UnsafeMemberPath(VoicePackageError):
    """A member's path would leave the package (absolute, ``..``, a drive, a backslash)."""


class SymlinkMember(VoicePackageError):
    """A member is a symbolic link."""


class UnexpectedMember(VoicePackageError):
    """A member the manifest does not list (or lists but this format has no use for)."""


class MissingMember(VoicePackageError):
    """The manifest lists a member the archive does not hold."""


class TooManyMembers(VoicePackageError):
    """The archive holds more members than a voice package ever has."""


class OversizedMember(VoicePackageError):
    """A member (as declared or as decompressed), or the clip it holds, is larger than allowed."""


class OversizedVoicePackage(VoicePackageError):
    """The package file itself is larger than a voice package can be."""


class ContentMismatch(VoicePackageError):
    """A member's content is not what the manifest's hash and size say."""


class NewerVoicePackage(VoicePackageError):
    """The package was made by a newer Dia Studio, in a format version this one does not know."""


class UnreadablePackageAudio(VoicePackageError):
    """The package's clip is not mono FLAC audio that can be decoded."""


@dataclass(frozen=True)
class PackagedVoice:
    """A voice as a package holds it, checked."""

    name: str  # as the package gives it; the library checks it when it takes the voice in
    transcript: str
    words: tuple[TimedWord, ...]  # timed against the clip below
    source: str
    created: datetime
    samples: np.ndarray  # mono float32
    sample_rate: int


def is_voice_package(path: Path | str) -> bool:
    return Path(path).suffix.lower() == PACKAGE_SUFFIX


def write_voice_package(path: Path, *, name: str, transcript: str, words: tuple[TimedWord, ...], source: str,
                        created: datetime, flac: bytes) -> None:
    """Write a package of a voice whose clip is already FLAC (as the library keeps it), all at once:
    a failed write leaves any earlier file under ``path`` as it was."""
    members = {
        AUDIO_MEMBER: flac,
        WORDS_MEMBER: json.dumps([[word.text, word.start_s, word.end_s] for word in words],
                                 ensure_ascii=False).encode("utf-8"),
    }
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "transcript": transcript,
        "source": source,
        "created": created.isoformat(),
        "files": {member: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
                  for member, content in members.items()},
    }
    members = {MANIFEST: json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"), **members}

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w") as archive:
            for member, content in members.items():
                info = zipfile.ZipInfo(member, _ZIP_TIME)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                # FLAC is compressed already; the JSON shrinks.
                info.compress_type = zipfile.ZIP_STORED if member == AUDIO_MEMBER else zipfile.ZIP_DEFLATED
                archive.writestr(info, content)

    write_atomically(path, write)


def read_voice_package(path: Path) -> PackagedVoice:
    """The voice in the package at ``path``, every member checked; raises a :class:`VoicePackageError`
    subclass naming what is wrong. Nothing is written anywhere."""
    package = f"“{Path(path).name}”"
    try:
        size = Path(path).stat().st_size
    except OSError as error:
        raise VoicePackageError(f"Cannot read the voice package {path}: {error.strerror or error}.") from None
    if size > MAX_PACKAGE_BYTES:
        raise OversizedVoicePackage(f"{package} is {size / 2**20:.1f} MiB; a voice package is at most "
                                    f"{MAX_PACKAGE_BYTES / 2**20:.0f} MiB.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise NotAVoicePackage(f"{package} is not a Dia Studio voice package: it is not a zip archive.") from None
    except OSError as error:
        raise VoicePackageError(f"Cannot read the voice package {path}: {error.strerror or error}.") from None
    with archive:
        members = _checked_members(archive, package)
        if MANIFEST not in members:
            raise NotAVoicePackage(f"{package} is not a Dia Studio voice package: it has no {MANIFEST}.")
        manifest = _manifest(_member_bytes(archive, members[MANIFEST], package), package)
        declared = _declared_files(manifest, package)
        for member in members:
            if member != MANIFEST and member not in declared:
                raise UnexpectedMember(f"{package} holds “{member}”, which its {MANIFEST} does not list.")
        for member in declared:
            if member not in members:
                raise MissingMember(f"{package} lacks “{member}”, which its {MANIFEST} lists.")
        contents = {member: _checked_content(archive, members[member], sha256, length, package)
                    for member, (sha256, length) in declared.items()}
    samples, sample_rate = _decoded_audio(contents[AUDIO_MEMBER], package)
    words = _words(contents[WORDS_MEMBER], package) if WORDS_MEMBER in contents else ()
    return PackagedVoice(manifest["name"], manifest.get("transcript") or "", words, manifest.get("source") or "",
                         _created(manifest, package), samples, sample_rate)


def _checked_members(archive: zipfile.ZipFile, package: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by name, once their number, paths and kinds are known to be safe."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise TooManyMembers(f"{package} holds {len(infos)} members; a voice package holds at most {MAX_MEMBERS}.")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        _check_path(info.filename, package)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SymlinkMember(f"{package} holds “{info.filename}” as a symbolic link; a voice package holds "
                                "only plain files.")
        if info.filename in members:
            raise UnexpectedMember(f"{package} holds “{info.filename}” twice.")
        members[info.filename] = info
    return members


def _check_path(member: str, package: str) -> None:
    why = ("it contains a backslash" if "\\" in member
           else "it is absolute" if member.startswith("/")
           else "it names a drive" if _DRIVE.match(member)
           else "it climbs out with “..”" if ".." in member.split("/")
           else "it contains a NUL character" if "\0" in member
           else None)
    if why is not None:
        raise UnsafeMemberPath(f"{package} holds a member whose path leaves the package ({why}): “{member}”.")


def _member_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, package: str) -> bytes:
    """The member's content, decompressed in chunks and given up past its limit: the size its
    header declares is checked first, then the bytes actually unpacked (zipfile stops at the
    declared size and fails the CRC of a header that lies; counting here keeps the limit ours)."""
    limit = MEMBER_LIMITS[info.filename]
    if info.file_size > limit:
        raise _oversized(info.filename, f"would unpack to {info.file_size} bytes", limit, package)
    read = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                read += chunk
                if len(read) > limit:
                    raise _oversized(info.filename, f"unpacks to more than {limit} bytes", limit, package)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, OSError) as error:
        # a bad CRC, a truncated archive, an unknown compression method, an encrypted member
        raise DamagedVoicePackage(f"{package} is damaged: “{info.filename}” cannot be read ({error}).") from None
    return bytes(read)


def _oversized(member: str, what: str, limit: int, package: str) -> OversizedMember:
    return OversizedMember(f"“{member}” in {package} {what}; it may hold at most {limit} bytes.")


def _manifest(content: bytes, package: str) -> dict[str, Any]:
    try:
        manifest = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedVoicePackage(f"{package} is damaged: its {MANIFEST} is not JSON ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise NotAVoicePackage(f"{package} is not a Dia Studio voice package: its {MANIFEST} does not say "
                               f"\"format\": \"{FORMAT}\".")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DamagedVoicePackage(f"{package} is damaged: its {MANIFEST} gives no valid format version.")
    if version > VERSION:
        raise NewerVoicePackage(f"{package} was made by a newer Dia Studio (voice package version {version}; "
                                f"this one reads version {VERSION}). Update Dia Studio to import it.")
    for key, required in (("name", True), ("transcript", False), ("source", False), ("created", False)):
        value = manifest.get(key)
        if (value is not None or required) and not isinstance(value, str):
            raise DamagedVoicePackage(f"{package} is damaged: its {MANIFEST} lacks a valid “{key}”.")
    return manifest


def _declared_files(manifest: dict[str, Any], package: str) -> dict[str, tuple[str, int]]:
    """What the manifest lists: each member's (sha256, bytes)."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise DamagedVoicePackage(f"{package} is damaged: its {MANIFEST} lacks the list of “files”.")
    declared = {}
    for member, entry in files.items():
        _check_path(member, package)
        if member not in (AUDIO_MEMBER, WORDS_MEMBER):
            raise UnexpectedMember(f"{package} lists “{member}”; a voice package of version {VERSION} holds "
                                   f"only {AUDIO_MEMBER} and {WORDS_MEMBER}.")
        sha256 = entry.get("sha256") if isinstance(entry, dict) else None
        length = entry.get("bytes") if isinstance(entry, dict) else None
        if (not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", sha256)
                or not isinstance(length, int) or isinstance(length, bool) or length < 0):
            raise DamagedVoicePackage(f"{package} is damaged: its {MANIFEST} gives “{member}” no valid "
                                      "\"sha256\" and \"bytes\".")
        if length > MEMBER_LIMITS[member]:
            raise _oversized(member, f"is listed in {MANIFEST} as {length} bytes", MEMBER_LIMITS[member], package)
        declared[member] = (sha256, length)
    if AUDIO_MEMBER not in declared:
        raise DamagedVoicePackage(f"{package} is damaged: its {MANIFEST} lists no {AUDIO_MEMBER}.")
    return declared


def _checked_content(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sha256: str, length: int,
                     package: str) -> bytes:
    content = _member_bytes(archive, info, package)
    if len(content) != length:
        raise ContentMismatch(f"“{info.filename}” in {package} holds {len(content)} bytes, not the {length} its "
                              f"{MANIFEST} says: the package was changed or damaged after it was made.")
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ContentMismatch(f"“{info.filename}” in {package} does not match its hash in {MANIFEST}: the package "
                              "was changed or damaged after it was made.")
    return content


def _decoded_audio(flac: bytes, package: str) -> tuple[np.ndarray, int]:
    def unreadable(why: str) -> UnreadablePackageAudio:
        return UnreadablePackageAudio(f"The clip in {package} ({AUDIO_MEMBER}) {why}.")

    try:
        with soundfile.SoundFile(io.BytesIO(flac)) as audio:
            if audio.format != "FLAC":
                raise unreadable(f"is {audio.format}, not FLAC")
            if audio.channels != 1:
                raise unreadable(f"has {audio.channels} channels; a voice's clip is mono")
            longest = round(MAX_AUDIO_SECONDS * audio.samplerate)
            samples = audio.read(longest + 1, dtype="float32")
            sample_rate = audio.samplerate
    except soundfile.SoundFileError as error:  # also libsndfile's decoding errors
        raise unreadable(f"cannot be decoded ({error})") from None
    if len(samples) > longest:
        raise OversizedMember(f"The clip in {package} ({AUDIO_MEMBER}) lasts more than {MAX_AUDIO_SECONDS:g} s; "
                              "a voice's clip lasts seconds.")
    if len(samples) == 0:
        raise unreadable("holds no audio")
    return samples, sample_rate


def _words(content: bytes, package: str) -> tuple[TimedWord, ...]:
    try:
        items = json.loads(content.decode("utf-8"))
        if not isinstance(items, list):
            raise ValueError("not a list of [word, start_s, end_s] items")
        return timed_words(items)
    except (UnicodeDecodeError, ValueError, DiaStudioError) as error:  # JSONDecodeError is a ValueError
        raise DamagedVoicePackage(f"{package} is damaged: its {WORDS_MEMBER} is not a list of "
                                  f"[word, start_s, end_s] items ({error}).") from None


def _created(manifest: dict[str, Any], package: str) -> datetime:
    if manifest.get("created") is None:
        return datetime.now(UTC)
    try:
        created = datetime.fromisoformat(manifest["created"])
    except ValueError:
        created = None
    if created is None or created.tzinfo is None:
        raise DamagedVoicePackage(f"{package} is damaged: its “created” is not a time with its zone.")
    return created
