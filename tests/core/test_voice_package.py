"""Voice packages (.diavoice): a saved voice goes to another studio's library whole, and a package
from a stranger is refused, by name, for each way it can be unsafe or damaged, leaving the library
and the disk as they were."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import struct
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from core.voice_library import InvalidVoiceName, VoiceLibrary
from core.voice_package import (AUDIO_MEMBER, FORMAT, MANIFEST, MAX_MEMBERS, MEMBER_LIMITS, WORDS_MEMBER,
                                ContentMismatch, DamagedVoicePackage, MissingMember, NewerVoicePackage, NotAVoicePackage,
                                OversizedMember, SymlinkMember, TooManyMembers, UnexpectedMember,
                                UnreadablePackageAudio, UnsafeMemberPath)
from tests.core.test_voice_library import VOICES, fixture_voice


@pytest.fixture
def exported(tmp_path) -> tuple[VoiceLibrary, Path]:
    """A library (in one studio's settings folder) with "Maya" saved, and Maya exported."""
    library = VoiceLibrary(tmp_path / "studio-a" / "voice_library")
    entry = library.save("Maya", fixture_voice(), "Speaker 1 in Interview")
    package = tmp_path / "Maya.diavoice"
    library.export(entry.id, package)
    return library, package


@pytest.fixture
def other_library(tmp_path) -> VoiceLibrary:
    """Another studio's library, with a voice of its own already."""
    library = VoiceLibrary(tmp_path / "studio-b" / "voice_library")
    library.save("Theo", fixture_voice("speaker2_44k_stereo.wav"))
    return library


def decoded_with_ffmpeg(flac: bytes) -> np.ndarray:
    with av.open(io.BytesIO(flac)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "flac"
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
    pcm = np.concatenate(frames, axis=1)[0]
    assert pcm.dtype == np.int32  # FFmpeg gives 24-bit FLAC as the top bits of 32-bit integers
    return pcm / 2 ** 31


def test_a_voice_goes_whole_through_its_package_into_another_library(exported, other_library):
    library, package = exported
    original = library.listing().voices[0]

    imported = other_library.import_package(package)

    assert (imported.name, imported.transcript, imported.words, imported.source, imported.created) == (
        original.name, original.transcript, original.words, original.source, original.created)
    assert imported.duration_s == original.duration_s
    samples = library.load(original.id).audio.samples()
    np.testing.assert_array_equal(other_library.load(imported.id).audio.samples(), samples)
    assert [voice.name for voice in other_library.listing().voices] == ["Maya", "Theo"]
    # The package holds what its format says, readable without Dia Studio.
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == [MANIFEST, AUDIO_MEMBER, WORDS_MEMBER]
        manifest = json.loads(archive.read(MANIFEST))
        flac, words = archive.read(AUDIO_MEMBER), json.loads(archive.read(WORDS_MEMBER))
    assert (manifest["format"], manifest["version"], manifest["name"]) == (FORMAT, 1, "Maya")
    assert manifest["files"][AUDIO_MEMBER] == {"sha256": hashlib.sha256(flac).hexdigest(), "bytes": len(flac)}
    assert words == [["Hello", 0.05, 0.4], ["there.", 0.45, 0.9]]
    np.testing.assert_allclose(decoded_with_ffmpeg(flac), samples, atol=2 ** -23)


def test_a_name_the_library_has_already_gets_a_free_one(exported, other_library):
    _, package = exported
    other_library.save("maya", fixture_voice())
    assert other_library.import_package(package).name == "Maya (2)"
    assert other_library.import_package(package).name == "Maya (3)"


def test_exporting_again_replaces_the_file_with_the_same_bytes(exported):
    library, package = exported
    first = package.read_bytes()
    library.export(library.listing().voices[0].id, package)
    assert package.read_bytes() == first
    assert sorted(path.name for path in package.parent.iterdir()) == ["Maya.diavoice", "studio-a"]


# --- packages from strangers -------------------------------------------------------------------


def members_of(package: Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and the other members of a good package, to be spoilt."""
    with zipfile.ZipFile(package) as archive:
        return (json.loads(archive.read(MANIFEST)),
                {name: archive.read(name) for name in archive.namelist() if name != MANIFEST})


def listed(members: dict[str, bytes]) -> dict:
    return {name: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for name, content in members.items()}


def write_package(path: Path, manifest: dict, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, content in entries:
            archive.writestr(name, content)
    return path


def with_size_claimed(archive: bytes, member: str, size: int) -> bytes:
    """The zip ``archive`` with the unpacked size of ``member`` given as ``size`` in its local header
    and its central directory entry (APPNOTE 4.3.7 and 4.3.12)."""
    spoilt = bytearray(archive)
    name = member.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = spoilt.find(signature)
        while spoilt[start + name_at:start + name_at + len(name)] != name:
            start = spoilt.find(signature, start + 1)
            assert start >= 0
        spoilt[start + size_at:start + size_at + 4] = struct.pack("<I", size)
    return bytes(spoilt)


def every_file(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() if path.is_file() else b"<folder>"
            for path in sorted(folder.rglob("*"))}


def assert_refused(library: VoiceLibrary, package: Path, error: type, message: str) -> None:
    """The import fails with ``error`` saying ``message``, and nothing anywhere under the test's
    folder (the library included) changed."""
    root = library.folder.parents[1]
    before = every_file(root)
    with pytest.raises(error) as raised:
        library.import_package(package)
    assert message in str(raised.value) and package.name in str(raised.value)
    assert every_file(root) == before


@pytest.mark.parametrize("path, why", [
    ("../escaped.txt", "it climbs out with “..”"),
    ("voices/../../escaped.txt", "it climbs out with “..”"),
    ("/tmp/escaped.txt", "it is absolute"),
    ("C:/escaped.txt", "it names a drive"),
    ("..\\escaped.txt", "it contains a backslash"),
])
def test_a_member_whose_path_leaves_the_package_is_refused(exported, other_library, tmp_path, path, why):
    manifest, members = members_of(exported[1])
    bad = write_package(tmp_path / "bad.diavoice", manifest, [*members.items(), (path, b"x")])
    assert_refused(other_library, bad, UnsafeMemberPath, f"whose path leaves the package ({why})")
    # Listed in the manifest only, it is refused as well.
    manifest["files"][path] = listed({path: b"x"})[path]
    bad = write_package(tmp_path / "listed.diavoice", manifest, list(members.items()))
    assert_refused(other_library, bad, UnsafeMemberPath, why)


def test_a_symbolic_link_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    link = zipfile.ZipInfo(WORDS_MEMBER)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    target = b"/etc/passwd"
    manifest["files"][WORDS_MEMBER] = listed({WORDS_MEMBER: target})[WORDS_MEMBER]
    bad = write_package(tmp_path / "link.diavoice", manifest, [(AUDIO_MEMBER, members[AUDIO_MEMBER]), (link, target)])
    assert_refused(other_library, bad, SymlinkMember, "holds “words.json” as a symbolic link")


def test_a_member_the_manifest_does_not_list_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    bad = write_package(tmp_path / "extra.diavoice", manifest, [*members.items(), ("run-me.sh", b"echo hi")])
    assert_refused(other_library, bad, UnexpectedMember, "holds “run-me.sh”, which its manifest.json does not list")


def test_a_member_the_manifest_lists_but_the_package_lacks_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    bad = write_package(tmp_path / "missing.diavoice", manifest, [(AUDIO_MEMBER, members[AUDIO_MEMBER])])
    assert_refused(other_library, bad, MissingMember, "lacks “words.json”, which its manifest.json lists")


def test_an_oversized_member_is_refused_before_it_is_read(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    # A zip bomb: megabytes of blanks (valid JSON around them) that deflate to a few kilobytes,
    # behind a manifest that lists the words as they were.
    bomb = b"[" + b" " * (MEMBER_LIMITS[WORDS_MEMBER] * 4) + b"]"
    bad = write_package(tmp_path / "bomb.diavoice", manifest, [(AUDIO_MEMBER, members[AUDIO_MEMBER]),
                                                              (WORDS_MEMBER, bomb)])
    with zipfile.ZipFile(bad) as archive:
        assert archive.getinfo(WORDS_MEMBER).compress_size < 16 * 1024
    assert_refused(other_library, bad, OversizedMember, f"“words.json” in “bomb.diavoice” would unpack to {len(bomb)} "
                                                        f"bytes; it may hold at most {MEMBER_LIMITS[WORDS_MEMBER]}")
    # The same bomb whose zip headers lie, saying it is small: no more than they say is unpacked.
    lying = tmp_path / "lying.diavoice"
    lying.write_bytes(with_size_claimed(bad.read_bytes(), WORDS_MEMBER, 100))
    assert_refused(other_library, lying, DamagedVoicePackage, "“words.json” cannot be read (Bad CRC-32")
    # A manifest listing more than a member may hold is refused before the member is opened.
    manifest["files"][WORDS_MEMBER]["bytes"] = MEMBER_LIMITS[WORDS_MEMBER] + 1
    bad = write_package(tmp_path / "huge.diavoice", manifest, list(members.items()))
    assert_refused(other_library, bad, OversizedMember, f"is listed in manifest.json as {MEMBER_LIMITS[WORDS_MEMBER] + 1}")


def test_too_many_members_are_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    chaff = [(f"chaff/{number}", b"") for number in range(MAX_MEMBERS)]
    bad = write_package(tmp_path / "many.diavoice", manifest, [*members.items(), *chaff])
    assert_refused(other_library, bad, TooManyMembers, f"holds {MAX_MEMBERS + 3} members; a voice package holds "
                                                       f"at most {MAX_MEMBERS}")


def test_a_member_changed_after_the_package_was_made_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    flac = bytearray(members[AUDIO_MEMBER])
    flac[-100] ^= 0xFF  # the same size, another content
    bad = write_package(tmp_path / "changed.diavoice", manifest, [(AUDIO_MEMBER, bytes(flac)),
                                                                 (WORDS_MEMBER, members[WORDS_MEMBER])])
    assert_refused(other_library, bad, ContentMismatch, "“voice.flac” in “changed.diavoice” does not match its hash")


def test_a_package_of_a_newer_format_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    bad = write_package(tmp_path / "future.diavoice", {**manifest, "version": 2}, list(members.items()))
    assert_refused(other_library, bad, NewerVoicePackage, "made by a newer Dia Studio (voice package version 2")


def test_what_is_not_a_voice_package_is_refused(other_library, tmp_path):
    renamed = tmp_path / "renamed.diavoice"
    renamed.write_bytes((VOICES / "speaker1_24k_mono.wav").read_bytes())
    assert_refused(other_library, renamed, NotAVoicePackage, "is not a Dia Studio voice package: it is not a zip")
    other_zip = tmp_path / "other.diavoice"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert_refused(other_library, other_zip, NotAVoicePackage, "it has no manifest.json")
    foreign = write_package(tmp_path / "foreign.diavoice", {"format": "something-else", "version": 1}, [])
    assert_refused(other_library, foreign, NotAVoicePackage, 'does not say "format": "dia-studio-voice"')


def test_audio_that_cannot_be_decoded_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    for name, audio, why in (("noise", b"not audio at all" * 100, "cannot be decoded"),
                             ("wav", (VOICES / "speaker1_24k_mono.wav").read_bytes(), "is WAV, not FLAC")):
        manifest["files"] = listed({**members, AUDIO_MEMBER: audio})
        bad = write_package(tmp_path / f"{name}.diavoice", manifest, [(AUDIO_MEMBER, audio),
                                                                     (WORDS_MEMBER, members[WORDS_MEMBER])])
        assert_refused(other_library, bad, UnreadablePackageAudio, f"({AUDIO_MEMBER}) {why}")


def test_a_stereo_clip_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    stereo = io.BytesIO()
    soundfile.write(stereo, np.zeros((24000, 2), np.float32), 24000, format="FLAC")
    audio = stereo.getvalue()
    manifest["files"] = listed({**members, AUDIO_MEMBER: audio})
    bad = write_package(tmp_path / "stereo.diavoice", manifest, [(AUDIO_MEMBER, audio),
                                                                (WORDS_MEMBER, members[WORDS_MEMBER])])
    assert_refused(other_library, bad, UnreadablePackageAudio, "has 2 channels; a voice's clip is mono")


def test_a_name_a_saved_voice_cannot_have_is_refused(exported, other_library, tmp_path):
    manifest, members = members_of(exported[1])
    bad = write_package(tmp_path / "blank.diavoice", {**manifest, "name": "  "}, list(members.items()))
    assert_refused(other_library, bad, InvalidVoiceName, "The voice in “blank.diavoice” cannot be imported: Give "
                                                         "the voice a name.")
