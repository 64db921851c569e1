"""One voice input for every face: read and checked before a model loads, its word timings placed
on the trimmed clip once, and prepared once however many renders (and threads) use it."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.audio.formats import ExportSettings
from core.audio.io import load_voice_clip
from core.batch.manifest import FolderOptions, read_manifest
from core.dia2.transcribe import TranscriptionModelUnavailable
from core.dia2.transcript_alignment import TimedWord
from core.dia2.voices import InvalidVoicePrompt
from core.document.clips import AudioClip
from core.document.speakers import VoiceReference
from core.studio.voice_input import VoiceInput
from core.voice_library import AUDIO_FILE, VoiceLibrary
from core.voice_package import NotAVoicePackage

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


# --- voice packages (.diavoice) ------------------------------------------------------------------


@pytest.fixture
def package(tmp_path) -> tuple[Path, Path, Path]:
    """A library voice exported as a package, and its clip and words as files of their own."""

    library = VoiceLibrary(tmp_path / "library")
    clip = load_voice_clip(VOICES / "speaker1_24k_mono.wav")
    words = [TimedWord("Hello", 0.3, 0.7), TimedWord("there.", 0.8, 1.2)]
    entry = library.save("Maya", VoiceReference(AudioClip.from_samples(clip.samples, 24000), words, "Hello there."))
    library.export(entry.id, tmp_path / "maya.diavoice")
    words_file = tmp_path / "maya.words.json"
    words_file.write_text(json.dumps([[w.text, w.start_s, w.end_s] for w in words]))
    return tmp_path / "maya.diavoice", library.folder / entry.id / AUDIO_FILE, words_file


def test_a_voice_package_is_the_same_input_as_its_clip_and_words(package):
    path, clip, words = package
    from_package, from_files = VoiceInput.read(path), VoiceInput.read(clip, words)
    np.testing.assert_array_equal(from_package.clip.samples, from_files.clip.samples)
    assert from_package.words == from_files.words and from_package.text is None
    assert from_package.prepared(CountingCodec()).words == from_files.prepared(CountingCodec()).words


def test_words_or_a_text_given_with_a_package_replace_its_words(package, tmp_path):
    path, _, _ = package
    other_words = tmp_path / "other.json"
    other_words.write_text(json.dumps([["Hi", 0.5, 0.9]]))
    assert [w.text for w in VoiceInput.read(path, other_words).words] == ["Hi"]
    corrected = VoiceInput.read(path, text="Hullo there.")
    assert corrected.text == "Hullo there." and [w.text for w in corrected.words] == ["Hello", "there."]
    # the text takes the package's timings: no Whisper is asked (CountingCodec refuses to transcribe)
    assert [w.text for w in corrected.prepared(CountingCodec()).words] == ["Hullo", "there."]


def test_a_package_saved_without_words_gives_its_transcript(tmp_path):
    library = VoiceLibrary(tmp_path / "library")
    clip = load_voice_clip(VOICES / "speaker1_24k_mono.wav")
    entry = library.save("Quiet", VoiceReference(AudioClip.from_samples(clip.samples, 24000), (), "Hello there."))
    library.export(entry.id, tmp_path / "quiet.diavoice")
    voice = VoiceInput.read(tmp_path / "quiet.diavoice")
    assert voice.words is None and voice.text == "Hello there."  # as --s1-text would give it

    class WithoutWhisper(CountingCodec):
        def transcribe(self, samples, sample_rate):
            raise TranscriptionModelUnavailable("No Whisper model here.")

    assert [w.text for w in voice.prepared(WithoutWhisper()).words] == ["Hello", "there."]


def test_a_batch_voice_can_be_a_package(package):
    path, clip, words = package
    manifest = path.parent / "batch.json"
    manifest.write_text(json.dumps([{"script": "[S1] Hi.", "output": "a.wav", "voices": [path.name]}]))
    (render,) = read_manifest(manifest, "dia2-2b", FolderOptions(None, ExportSettings.create("WAV")))
    assert render.voices[0].words == VoiceInput.read(clip, words).words


def test_a_bad_package_is_refused_when_read(tmp_path):
    not_a_package = tmp_path / "voice.diavoice"
    not_a_package.write_bytes((VOICES / "speaker1_24k_mono.wav").read_bytes())
    with pytest.raises(NotAVoicePackage, match="“voice.diavoice” is not a Dia Studio voice package"):
        VoiceInput.read(not_a_package)
