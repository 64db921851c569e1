"""Voice references → voice prompts: timings moved onto the trimmed clip, corrected words,
Whisper words, and refusals."""

from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.audio.errors import SilentAudio
from core.audio.io import VoiceClip
from core.dia2.prefix import InvalidVoicePrompt
from core.dia2.transcribe import WhisperTranscriber
from core.dia2.transcript_alignment import TimedWord
from core.dia2.voices import prepare_voice, words_within_clip
from tests.scripted_whisper import scripted_whisper_checkpoint

VOICES = Path(__file__).parents[2] / "fixtures" / "voices"


def _padded_clip(seconds_of_silence: float):
    samples, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    silence = np.zeros(int(seconds_of_silence * rate), np.float32)
    return np.concatenate([silence, samples]), rate


def test_given_words_are_moved_onto_the_trimmed_clip(tiny_runtime):
    samples, rate = _padded_clip(2.0)
    words = [TimedWord("Hello", 2.3, 2.7), TimedWord("there.", 2.8, 3.2), TimedWord("gone", 60.0, 61.0)]
    prepared = prepare_voice(tiny_runtime, (samples, rate), words=words)
    assert prepared.clip.start_s == pytest.approx(2.0, abs=0.1)
    assert [w.text for w in prepared.words] == ["Hello", "there."]  # "gone" lies past the clip
    shift = prepared.clip.start_s
    assert prepared.words[0].start_s == pytest.approx(2.3 - shift)
    frames = prepared.prompt.codes.shape[1]
    assert prepared.prompt.codes.shape[0] == 32
    assert frames == pytest.approx(prepared.clip.duration_s * tiny_runtime.frame_rate, abs=1)


def test_words_cut_by_the_trim_are_clipped_to_the_kept_sound():
    clip = VoiceClip(np.zeros(24_000, np.float32), 24_000, 1.0, -20.0, -30.0, start_s=0.5)
    words = [TimedWord("early", 0.0, 0.2), TimedWord("cut", 0.4, 0.7), TimedWord("in", 0.8, 1.2),
             TimedWord("end", 1.4, 1.8), TimedWord("past", 1.9, 2.0)]
    assert words_within_clip(words, clip) == [TimedWord("cut", 0.0, pytest.approx(0.2)),
                                              TimedWord("in", pytest.approx(0.3), pytest.approx(0.7)),
                                              TimedWord("end", pytest.approx(0.9), 1.0)]


def test_corrected_text_keeps_whisper_timings(tiny_runtime, tmp_path):
    whisper = WhisperTranscriber(scripted_whisper_checkpoint(["Hello", "world"], tmp_path / "w.pt"), device="cpu")
    heard = prepare_voice(tiny_runtime, VOICES / "speaker1_24k_mono.wav", transcriber=whisper)
    corrected = prepare_voice(tiny_runtime, VOICES / "speaker1_24k_mono.wav", transcriber=whisper,
                              corrected_text="Hello there")
    assert [w.text for w in heard.words] == ["Hello", "world"]
    assert [w.text for w in corrected.words] == ["Hello", "there"]
    assert [(w.start_s, w.end_s) for w in corrected.words] == [(w.start_s, w.end_s) for w in heard.words]


def test_a_reference_needs_words_a_transcript_or_a_transcriber(tiny_runtime):
    with pytest.raises(InvalidVoicePrompt, match="needs its words"):
        prepare_voice(tiny_runtime, VOICES / "speaker1_24k_mono.wav")


def test_without_recognition_a_transcript_is_spread_over_the_clip_by_word_length(tiny_runtime):
    prepared = prepare_voice(tiny_runtime, VOICES / "speaker1_24k_mono.wav", corrected_text="Hi there everybody")
    words = prepared.words
    assert [w.text for w in words] == ["Hi", "there", "everybody"]
    assert words[0].start_s == 0 and words[-1].end_s <= prepared.clip.duration_s
    assert all(a.end_s <= b.start_s for a, b in zip(words, words[1:]))
    spans = [w.end_s - w.start_s for w in words]
    assert spans[0] < spans[1] < spans[2]  # a longer word takes longer to say


def test_words_outside_the_audio_are_refused(tiny_runtime):
    with pytest.raises(InvalidVoicePrompt, match="falls inside"):
        prepare_voice(tiny_runtime, VOICES / "speaker1_24k_mono.wav", words=[TimedWord("late", 30.0, 31.0)])


def test_silent_reference_is_refused(tiny_runtime):
    with pytest.raises(SilentAudio):
        prepare_voice(tiny_runtime, VOICES / "silence_3s.wav", words=[TimedWord("x", 0.1, 0.2)])
