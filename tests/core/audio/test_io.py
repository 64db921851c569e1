from __future__ import annotations

import io

import av
import numpy as np
import pytest
import soundfile

from core.audio import MODEL_SAMPLE_RATE
from core.audio.errors import AudioTooShort, SilentAudio, UnreadableAudio, UnusableAudio
from core.audio.io import MAX_REFERENCE_SECONDS, load_voice_clip, read_audio
from core.errors import DiaStudioError
from tests.core.audio.conftest import VOICES

# the same speech in several files: after trimming, each must give about the same clip
SPEAKER1 = ["speaker1_24k_mono.wav", "speaker1_16k.flac"]
SPEAKER2 = ["speaker2_44k_stereo.wav", "speaker2_48k.ogg"]


@pytest.mark.parametrize("name", SPEAKER1 + SPEAKER2)
def test_good_voice_files_become_trimmed_24k_mono_clips(name):
    clip = load_voice_clip(VOICES / name)
    assert clip.sample_rate == MODEL_SAMPLE_RATE
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert clip.duration_s == pytest.approx(len(clip.samples) / MODEL_SAMPLE_RATE)
    spoken = 6.8 if name in SPEAKER1 else 5.6  # the file lengths, per the fixtures' README
    assert 0.8 * spoken < clip.duration_s < spoken  # some silence trimmed, the speech kept
    assert -3 < clip.peak_dbfs <= 0.5
    assert -30 < clip.rms_dbfs < -10
    assert clip.notices == ()


@pytest.mark.parametrize("files", [SPEAKER1, SPEAKER2])
def test_the_same_speech_in_any_file_gives_the_same_clip(files):
    first, second = (load_voice_clip(VOICES / name) for name in files)
    assert first.duration_s == pytest.approx(second.duration_s, abs=0.05)
    assert first.rms_dbfs == pytest.approx(second.rms_dbfs, abs=0.5)


def test_the_clip_says_where_its_sound_starts_in_the_source():
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    after_1s, after_3s = (
        load_voice_clip((np.concatenate([np.zeros(seconds * rate, np.float32), speech]), rate)) for seconds in (1, 3)
    )
    assert 0.9 < after_1s.start_s < 1.5  # the speech starts just after the silence
    assert after_3s.start_s == pytest.approx(after_1s.start_s + 2.0)
    assert np.array_equal(after_3s.samples, after_1s.samples)


def test_silence_is_refused():
    with pytest.raises(SilentAudio, match="silence_3s.wav' is silent"):
        load_voice_clip(VOICES / "silence_3s.wav")


def test_a_text_file_named_wav_is_refused():
    with pytest.raises(UnreadableAudio, match="not_audio.wav' could not be read as audio"):
        load_voice_clip(VOICES / "not_audio.wav")


def test_a_truncated_wav_is_refused_as_incomplete():
    with pytest.raises(UnreadableAudio, match=r"truncated.wav' is incomplete: .* announces 6.8 s .* only 0.04 s"):
        load_voice_clip(VOICES / "truncated.wav")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(UnreadableAudio, match="'gone.wav' was not found"):
        load_voice_clip(tmp_path / "gone.wav")
    with pytest.raises(UnreadableAudio, match="not found"):
        load_voice_clip(tmp_path)


def test_every_refusal_is_a_studio_error():
    for name in ["silence_3s.wav", "not_audio.wav", "truncated.wav"]:
        with pytest.raises(UnusableAudio):
            load_voice_clip(VOICES / name)
    assert issubclass(UnusableAudio, DiaStudioError)


def test_less_than_a_second_of_sound_is_refused():
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    word = speech[int(0.5 * rate) : int(1.2 * rate)]  # 0.7 s
    padded = np.concatenate([np.zeros(rate, np.float32), word, np.zeros(rate, np.float32)])  # 2.7 s long
    with pytest.raises(AudioTooShort, match="The recording holds only 0.[6-8]. s of sound"):
        load_voice_clip((padded, rate))


def test_a_long_reference_is_shortened_with_a_notice():
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    long_take = np.tile(speech, 5)  # 34 s
    clip = load_voice_clip((long_take, rate))
    assert clip.duration_s == MAX_REFERENCE_SECONDS
    assert len(clip.notices) == 1 and "only its first 20 s are used" in clip.notices[0]
    # the first 20 s are kept: the clip starts as the single take does
    assert np.array_equal(clip.samples[:rate], load_voice_clip((speech, rate)).samples[:rate])


def test_in_memory_clips_of_any_shape_type_and_rate():
    speech, rate = soundfile.read(VOICES / "speaker2_44k_stereo.wav", dtype="int16")
    from_int16 = load_voice_clip((speech, rate))  # (frames, 2) integer PCM at 44.1 kHz
    from_float = load_voice_clip((speech.astype(np.float32) / 32768, rate))
    from_mono = load_voice_clip((speech.mean(axis=1) / 32768, rate))
    assert from_int16.duration_s == from_float.duration_s == from_mono.duration_s
    assert np.allclose(from_int16.samples, from_float.samples, atol=1e-6)
    assert np.allclose(from_mono.samples, from_float.samples, atol=1e-4)


@pytest.mark.parametrize(
    "clip",
    [
        (np.zeros((2, 2, 2), np.float32), 24000),
        (np.zeros(0, np.float32), 24000),
        (np.ones(24000), 0),
        (np.ones(9), 2.5),
    ],
    ids=["3d", "empty", "no-rate", "float-rate"],
)
def test_in_memory_clips_that_are_not_audio_are_refused(clip):
    with pytest.raises(UnreadableAudio, match="The recording is not audio"):
        load_voice_clip(clip)


def test_nan_in_a_clip_does_not_reach_the_model():
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    speech[1000:1100] = np.nan
    assert np.all(np.isfinite(load_voice_clip((speech, rate)).samples))


def test_encoded_bytes_are_read_like_a_file():
    data = (VOICES / "speaker2_48k.ogg").read_bytes()
    assert load_voice_clip(data).duration_s == pytest.approx(load_voice_clip(VOICES / "speaker2_48k.ogg").duration_s)
    with pytest.raises(UnreadableAudio, match="The audio data could not be read"):
        load_voice_clip(b"hello, not audio")


def test_mp3_is_read(tmp_path):
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    path = tmp_path / "speaker1.mp3"
    soundfile.write(path, speech, rate, format="MP3")
    from_wav = load_voice_clip(VOICES / "speaker1_24k_mono.wav")
    assert load_voice_clip(path).duration_s == pytest.approx(from_wav.duration_s, abs=0.1)


def test_what_soundfile_cannot_read_is_read_with_ffmpeg(tmp_path):
    # AAC in an MP4 container (.m4a): the usual phone voice memo
    speech, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    path = tmp_path / "memo.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(speech[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(soundfile.LibsndfileError):
        soundfile.read(path)
    samples, found_rate = read_audio(path)
    assert found_rate == rate and samples.shape[1] == 1
    assert len(samples) / rate == pytest.approx(len(speech) / rate, abs=0.1)
    assert load_voice_clip(path).duration_s > 6


def test_read_audio_keeps_channels_and_rate():
    samples, rate = read_audio(VOICES / "speaker2_44k_stereo.wav")
    assert rate == 44100 and samples.shape == (245056, 2) and samples.dtype == np.float32


def test_an_unknown_source_type_is_a_programming_error():
    with pytest.raises(TypeError):
        load_voice_clip(io.BytesIO(b"RIFF"))


@pytest.mark.parametrize("suffix", [".flac", ".m4a"])
def test_a_very_long_file_is_read_only_as_far_as_needed(tmp_path, suffix):
    rate = 16000
    rng = np.random.default_rng(2)
    long_take = (0.3 * rng.standard_normal(90 * rate)).astype(np.float32)
    path = tmp_path / f"interview{suffix}"
    if suffix == ".flac":
        soundfile.write(path, long_take, rate)
    else:
        with av.open(str(path), "w", format="mp4") as container:
            stream = container.add_stream("aac", rate=rate, layout="mono", bit_rate=32000)
            frame = av.AudioFrame.from_ndarray(long_take[None, :], format="fltp", layout="mono")
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    samples, found_rate = read_audio(path, max_seconds=60)
    assert found_rate == rate and len(samples) == 60 * rate
    clip = load_voice_clip(path)
    assert clip.duration_s == 20.0
    assert "holds more than a minute of sound" in clip.notices[0]
