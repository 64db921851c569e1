"""Recording through the fake sound system (a thread with a virtual clock)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from core.audio.backend import AudioDevice
from core.audio.capture import Recorder
from core.audio.errors import AudioDeviceError, NoAudioDevice
from core.audio.io import load_voice_clip
from tests.core.audio.conftest import VOICES
from tests.fake_sound_card import FAKE_MICROPHONE, FakeBackend

RATE = 48000


def tone(seconds: float, amplitude: float = 0.5, freq: float = 440.0) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(round(seconds * RATE)) / RATE)).astype(np.float32)


def test_records_what_the_microphone_hears():
    heard = tone(1.0)
    backend = FakeBackend(speed=None, microphone=heard)
    recorder = Recorder(backend)
    recorder.start()
    assert recorder.is_recording
    backend.advance(1.5)
    assert recorder.recorded_s == pytest.approx(1.5, abs=0.02)
    take = recorder.stop()
    assert take.sample_rate == FAKE_MICROPHONE.default_sample_rate
    assert np.array_equal(take.samples[: len(heard)], heard)
    assert not np.any(take.samples[len(heard) :])
    assert take.dropped_s == 0 and take.error is None
    assert not recorder.is_recording


def test_level_follows_the_latest_block():
    heard = np.concatenate([tone(0.5, amplitude=0.8), tone(0.5, amplitude=0.1)])
    backend = FakeBackend(speed=None, microphone=heard)
    recorder = Recorder(backend)
    recorder.start()
    backend.advance(0.25)
    assert recorder.level == pytest.approx(0.8, abs=0.01)
    assert recorder.level_dbfs == pytest.approx(-1.94, abs=0.1)
    backend.advance(0.5)
    assert recorder.level == pytest.approx(0.1, abs=0.01)
    backend.advance(0.5)
    assert recorder.level == 0.0 and recorder.level_dbfs == -np.inf
    recorder.stop()


def test_a_take_longer_than_the_ring_keeps_its_end():
    heard = np.arange(3 * RATE, dtype=np.float32) / (3 * RATE)  # a ramp: each sample says when it was heard
    backend = FakeBackend(speed=None, microphone=heard)
    recorder = Recorder(backend, max_seconds=1.0)
    recorder.start()
    backend.advance(3.0)
    take = recorder.stop()
    assert take.duration_s == pytest.approx(1.0)
    assert take.dropped_s == pytest.approx(2.0, abs=0.02)
    heard_until = round((take.dropped_s + take.duration_s) * RATE)  # whole blocks only
    assert np.array_equal(take.samples, heard[heard_until - len(take.samples) : heard_until])


def test_an_unplugged_microphone_keeps_the_take_so_far():
    backend = FakeBackend(speed=None, microphone=tone(2.0), lose_device_after_s=0.5)
    recorder = Recorder(backend)
    recorder.start()
    backend.advance(2.0)
    assert not recorder.is_recording
    assert "stopped working (was it unplugged?)" in str(recorder.error)
    take = recorder.stop()
    assert take.duration_s == pytest.approx(0.5, abs=0.02)
    assert np.array_equal(take.samples, tone(2.0)[: len(take.samples)])
    assert take.error is recorder.error


def test_no_microphone_is_a_clear_error():
    recorder = Recorder(FakeBackend(inputs=()))
    with pytest.raises(NoAudioDevice, match="No microphone was found"):
        recorder.start()


def test_a_refused_device_is_a_clear_error():
    backend = FakeBackend(refuse_open="Could not use the microphone 'Fake microphone': permission denied.")
    with pytest.raises(AudioDeviceError, match="permission denied"):
        Recorder(backend).start()


def test_records_from_the_chosen_device_at_the_chosen_rate():
    usb = AudioDevice("usb", "USB microphone", 2, 0, 44100)
    backend = FakeBackend(speed=None, inputs=(FAKE_MICROPHONE, usb))
    recorder = Recorder(backend, device=usb, sample_rate=16000)
    recorder.start()
    backend.advance(0.5)
    take = recorder.stop()
    assert backend.streams[-1].device is usb
    assert take.sample_rate == 16000 and take.duration_s == pytest.approx(0.5, abs=0.04)


def test_a_take_becomes_a_voice_clip():
    speech, rate = soundfile.read(VOICES / "speaker2_44k_stereo.wav", dtype="float32")
    backend = FakeBackend(speed=8.0, microphone=speech[:, 0])  # real time would take 6 s
    recorder = Recorder(backend, sample_rate=rate)
    recorder.start()
    assert backend.streams[-1].wait_for_clock(len(speech) / rate + 0.5)
    clip = load_voice_clip((recorder.stop().samples, rate))
    assert 5.0 < clip.duration_s < 5.6
