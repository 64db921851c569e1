"""One voice input for every face: read and checked before a model loads, its word timings placed
on the trimmed clip once, and prepared once however many renders (and threads) use it."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.audio.formats import ExportSettings
from core.batch.manifest import FolderOptions, read_manifest
from core.dia2.voices import InvalidVoicePrompt
from core.studio.voice_input import VoiceInput

VOICES = Path(__file__).parents[2] / "fixtures" / "voices"
LEAD_S = 1.0  # silence before the speech, trimmed from the clip


class CountingCodec:
    """The two engine members a voice prompt needs; counts encodings."""

    sample_rate = 24000

    def __init__(self):
        self.encoded = 0

    def encode_voice(self, samples):
        self.encoded += 1
        return np.zeros((len(samples) // 1920, 4), dtype=np.int64)

    def transcribe(self, samples, sample_rate):
        raise AssertionError("words were given: Whisper must not be asked")


@pytest.fixture
def late_voice(tmp_path) -> tuple[Path, Path]:
    """A voice that starts after a second of silence, and its words timed against the file."""
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    path = tmp_path / "late.wav"
    soundfile.write(path, np.concatenate([np.zeros(int(LEAD_S * rate), np.float32), speech]), rate)
    words = tmp_path / "late.words.json"
    words.write_text(json.dumps([["Hello", LEAD_S + 0.3, LEAD_S + 0.7], ["there.", LEAD_S + 0.8, LEAD_S + 1.2]]))
    return path, words


def test_words_timed_against_the_file_land_on_the_trimmed_clip_once(late_voice):
    voice = VoiceInput.read(*late_voice)
    assert voice.clip.start_s > 0.5  # the silence was trimmed
    words = voice.prepared(CountingCodec()).words
    assert [word.text for word in words] == ["Hello", "there."]
    assert words[0].start_s == pytest.approx(LEAD_S + 0.3 - voice.clip.start_s)


def test_a_batch_voice_is_the_same_input_as_the_command_lines(late_voice, tmp_path):
    audio, words = late_voice
    manifest = tmp_path / "batch.json"
    manifest.write_text(json.dumps([{"script": "[S1] Hi.", "output": "a.wav",
                                     "voices": [{"audio": audio.name, "words": words.name}]}]))
    (render,) = read_manifest(manifest, "dia2-2b", FolderOptions(None, ExportSettings.create("WAV")))
    from_batch = render.voices[0].prepared(CountingCodec()).words
    from_flags = VoiceInput.read(audio, words).prepared(CountingCodec()).words
    assert from_batch == from_flags


def test_renders_sharing_a_voice_encode_it_once_across_threads(late_voice):
    voice, codec = VoiceInput.read(*late_voice), CountingCodec()
    threads = [threading.Thread(target=voice.prepared, args=(codec,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codec.encoded == 1


def test_words_all_outside_the_clip_are_refused_when_read(tmp_path):
    words = tmp_path / "words.json"
    words.write_text(json.dumps([["Hello", 30.0, 30.5]]))
    with pytest.raises(InvalidVoicePrompt, match="None of the given words falls inside the voice clip"):
        VoiceInput.read(VOICES / "speaker1_24k_mono.wav", words)
