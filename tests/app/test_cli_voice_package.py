"""A voice exported from the studio's library (.diavoice) on the command line: `render --s1` makes
with it what the same clip and words make as files, and a bad package is refused before the model
loads."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.main import main
from core.audio.io import load_voice_clip
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.speakers import VoiceReference
from core.voice_library import AUDIO_FILE, VoiceLibrary
from core.voice_package import MANIFEST
from tests.core.dia2.golden import CHECKPOINT

VOICES = Path(__file__).parents[1] / "fixtures" / "voices"
SCRIPT = "[S1] Hello there. [S2] Hi! (laughs) How are you?"
WORDS = [TimedWord("Hello", 0.3, 0.7), TimedWord("there.", 0.8, 1.2), TimedWord("This", 1.4, 1.6)]


@pytest.fixture
def exported(tmp_path) -> tuple[Path, Path, Path]:
    """Maya saved in a library and exported; and her clip and words as the library keeps them."""
    library = VoiceLibrary(tmp_path / "library")
    clip = load_voice_clip(VOICES / "speaker1_24k_mono.wav")
    entry = library.save("Maya", VoiceReference(AudioClip.from_samples(clip.samples, clip.sample_rate), WORDS,
                                                "Hello there. This"))
    package = tmp_path / "maya.diavoice"
    library.export(entry.id, package)
    words = tmp_path / "maya.words.json"
    words.write_text(json.dumps([[word.text, word.start_s, word.end_s] for word in WORDS]))
    return package, library.folder / entry.id / AUDIO_FILE, words


def _render(model: Path, *flags: str) -> int:
    return main(["render", "--model", str(model), "--device", "cpu", "--threads", "1", "--script", SCRIPT, *flags])


def test_render_with_a_voice_package_makes_what_its_clip_and_words_make(exported, tmp_path, capsys):
    package, clip, words = exported
    made = {}
    for name, voice in (("package", ["--s1", str(package)]), ("files", ["--s1", str(clip), "--s1-words", str(words)])):
        assert _render(CHECKPOINT, *voice, "--seed", "5", "--out", str(tmp_path / f"{name}.wav"),
                       "--codes-out", str(tmp_path / f"{name}.npy")) == 0
        said = capsys.readouterr().err
        assert "[S1] voice: 6.5 s, words: Hello there. This" in said, said
        made[name] = np.load(tmp_path / f"{name}.npy"), soundfile.read(tmp_path / f"{name}.wav", dtype="int16")[0]
    np.testing.assert_array_equal(made["package"][0], made["files"][0])
    np.testing.assert_array_equal(made["package"][1], made["files"][1])
    assert made["package"][0].shape[1] > 10 and np.abs(made["package"][1]).max() > 300  # speech, not silence


@pytest.mark.parametrize("command", ["render", "speak"])
def test_a_changed_package_is_refused_before_the_model_loads(exported, tmp_path, capsys, command):
    package, _, _ = exported
    with zipfile.ZipFile(package) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    flac = bytearray(members["voice.flac"])
    flac[-50] ^= 0xFF
    changed = tmp_path / "changed.diavoice"
    with zipfile.ZipFile(changed, "w") as archive:
        archive.writestr(MANIFEST, members[MANIFEST])
        archive.writestr("voice.flac", bytes(flac))
        archive.writestr("words.json", members["words.json"])
    # A model folder that does not exist: its error would come first if the model loaded first.
    flags = ["--model", str(tmp_path / "no-model"), "--s1", str(changed), "--out", str(tmp_path / "x.wav")]
    flags += ["--script", SCRIPT] if command == "render" else []
    assert main([command, *flags]) == 2
    error = capsys.readouterr().err
    assert "“voice.flac” in “changed.diavoice” does not match its hash in manifest.json" in error
    assert "loading" not in error and "Traceback" not in error
    assert not (tmp_path / "x.wav").exists()
