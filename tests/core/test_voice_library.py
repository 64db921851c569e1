"""The voice library: saved voices round-trip, names stay unique, damaged entries stay apart, and a
failed save leaves nothing behind."""

from __future__ import annotations

import errno
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.audio.io import load_voice_clip
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.speakers import VoiceReference
from core.voice_library import (AUDIO_FILE, INFO_FILE, MAX_NAME_LENGTH, DamagedLibraryVoice, InvalidVoiceName,
                                VoiceLibrary, VoiceLibraryError)

VOICES = Path(__file__).resolve().parents[1] / "fixtures" / "voices"


def fixture_voice(name: str = "speaker1_24k_mono.wav") -> VoiceReference:
    clip = load_voice_clip(VOICES / name)
    words = [TimedWord("Hello", 0.05, 0.4), TimedWord("there.", 0.45, 0.9)]
    return VoiceReference(AudioClip.from_samples(clip.samples, clip.sample_rate), words, "Hello there.")


@pytest.fixture
def library(tmp_path) -> VoiceLibrary:
    return VoiceLibrary(tmp_path / "voices")


def test_a_saved_voice_comes_back_as_it_was(library):
    voice = fixture_voice()
    before = datetime.now(UTC)
    saved = library.save("  Maya   Reed ", voice, "Speaker 1 in Interview")

    assert saved.name == "Maya Reed"
    assert saved.source == "Speaker 1 in Interview"
    assert before - timedelta(seconds=1) <= saved.created <= datetime.now(UTC)
    assert saved.duration_s == pytest.approx(voice.audio.duration_s)
    assert library.listing().voices == (saved,)
    files = sorted(path.name for path in (library.folder / saved.id).iterdir())
    assert files == [AUDIO_FILE, INFO_FILE]

    loaded = library.load(saved.id)
    assert loaded.words == voice.words and loaded.transcript == "Hello there."
    assert loaded.audio.sample_rate == 24000 and loaded.audio.frame_count == voice.audio.frame_count
    assert loaded.audio != voice.audio  # a clip of its own, for the project to store
    # 24-bit FLAC: within half a step of 2^-23
    np.testing.assert_allclose(loaded.audio.samples(), voice.audio.samples(), atol=2 ** -24)


def test_the_listing_is_sorted_by_name_ignoring_case(library):
    voice = fixture_voice()
    for name in ("theo", "Anna", "maya", "Bob"):
        library.save(name, voice)
    assert [v.name for v in library.listing().voices] == ["Anna", "Bob", "maya", "theo"]


def test_a_taken_name_gets_a_number(library):
    voice = fixture_voice()
    names = [library.save(name, voice).name for name in ("Maya", "Maya", "MAYA", "Maya (2)")]
    assert names == ["Maya", "Maya (2)", "MAYA (3)", "Maya (2) (2)"]
    assert len({v.id for v in library.listing().voices}) == 4
    long = "x" * MAX_NAME_LENGTH
    library.save(long, voice)
    numbered = library.save(long, voice).name
    assert numbered.endswith(" (2)") and len(numbered) == MAX_NAME_LENGTH


@pytest.mark.parametrize("name, problem", [
    ("", "Give the voice a name"),
    ("   ", "Give the voice a name"),
    ("x" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH} characters"),
    ("Maya\x00", "control characters"),
])
def test_a_bad_name_is_refused_and_nothing_is_written(library, name, problem):
    with pytest.raises(InvalidVoiceName, match=problem):
        library.save(name, fixture_voice())
    assert not library.folder.exists() or not any(library.folder.iterdir())


def test_a_damaged_entry_is_listed_apart_and_the_others_still_work(library):
    voice = fixture_voice()
    good = library.save("Good", voice)
    broken = {name: library.save(name, voice).id for name in ("garbled", "no audio", "wrong audio", "no info",
                                                                "future", "bad words")}
    folder = library.folder
    (folder / broken["garbled"] / INFO_FILE).write_text("{ not json", "utf-8")
    (folder / broken["no audio"] / AUDIO_FILE).unlink()
    shutil.copy(VOICES / "speaker2_44k_stereo.wav", folder / broken["wrong audio"] / AUDIO_FILE)
    (folder / broken["no info"] / INFO_FILE).unlink()
    for name, change in (("future", {"format_version": 99}), ("bad words", {"words": [["a", 2.0, 1.0]]})):
        info_file = folder / broken[name] / INFO_FILE
        info_file.write_text(json.dumps({**json.loads(info_file.read_text("utf-8")), **change}), "utf-8")

    listing = library.listing()
    assert listing.voices == (good,)
    problems = {damaged.id: damaged.problem for damaged in listing.damaged}
    assert set(problems) == set(broken.values())
    assert "cannot be read" in problems[broken["garbled"]]
    assert "voice.flac is missing or is not readable audio" in problems[broken["no audio"]]
    assert "2 channel(s)" in problems[broken["wrong audio"]]
    assert "voice.json is missing" in problems[broken["no info"]]
    assert "newer Dia Studio" in problems[broken["future"]]
    assert "starts at 2.0 s and ends at 1.0 s" in problems[broken["bad words"]]
    assert all(problem.startswith("The saved voice in ") for problem in problems.values())

    with pytest.raises(DamagedLibraryVoice, match="damaged"):
        library.load(broken["no audio"])
    np.testing.assert_allclose(library.load(good.id).audio.samples(), voice.audio.samples(), atol=2 ** -24)
    for voice_id in broken.values():
        library.delete(voice_id)
    assert library.listing().damaged == () and library.listing().voices == (good,)


def test_delete_removes_the_voice_and_only_it(library):
    voice = fixture_voice()
    maya, theo = library.save("Maya", voice), library.save("Theo", voice)
    library.delete(maya.id)
    assert library.listing().voices == (theo,)
    assert sorted(path.name for path in library.folder.iterdir()) == [theo.id]
    with pytest.raises(VoiceLibraryError, match="has no voice"):
        library.delete(maya.id)
    with pytest.raises(VoiceLibraryError, match="has no voice"):
        library.load(maya.id)
    for outside in ("..", f"../{library.folder.name}", ""):
        with pytest.raises(VoiceLibraryError, match="has no voice"):
            library.delete(outside)
    assert library.folder.is_dir()


def test_a_save_that_fails_midway_leaves_no_trace(library, monkeypatch):
    voice = fixture_voice()
    kept = library.save("Kept", voice)

    def disk_full(path, *args, **kwargs):
        Path(path).write_bytes(b"fLaC half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(soundfile, "write", disk_full)
    with pytest.raises(VoiceLibraryError, match="Could not save “Lost” .*No space left on device"):
        library.save("Lost", voice)
    assert library.listing().voices == (kept,) and library.listing().damaged == ()
    assert sorted(path.name for path in library.folder.iterdir()) == [kept.id]


def test_a_voice_half_written_by_a_crash_is_not_listed(library):
    saved = library.save("Maya", fixture_voice())
    staging = library.folder / f".{saved.id}-crashed.partial"
    shutil.copytree(library.folder / saved.id, staging)
    (staging / INFO_FILE).unlink()
    assert library.listing().voices == (saved,) and library.listing().damaged == ()


def test_an_unusable_library_folder_is_reported(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    library = VoiceLibrary(blocker / "voices")
    with pytest.raises(VoiceLibraryError, match="voice library in .*a file/voices: Not a directory"):
        library.save("Maya", fixture_voice())
    with pytest.raises(VoiceLibraryError, match="Cannot read the voice library"):
        library.listing()
    assert VoiceLibrary(tmp_path / "never made").listing().voices == ()


def test_the_library_is_plain_files_another_studio_can_read(library, tmp_path):
    saved = library.save("Maya", fixture_voice(), "a test")
    info = json.loads((library.folder / saved.id / INFO_FILE).read_text("utf-8"))
    assert info["name"] == "Maya" and info["words"][0] == ["Hello", 0.05, 0.4]
    assert soundfile.info(str(library.folder / saved.id / AUDIO_FILE)).subtype == "PCM_24"
    moved = tmp_path / "moved"
    shutil.copytree(library.folder, moved)
    assert [v.name for v in VoiceLibrary(moved).listing().voices] == ["Maya"]
