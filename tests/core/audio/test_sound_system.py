"""The real sounddevice backend, on a PulseAudio null sink whose monitor is the microphone:
what the player plays, the recorder hears."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.audio.capture import Recorder
from core.audio.playback import PlayerState, StreamingPlayer
from tests.core.audio.conftest import START_NULL_SINK, STOP_NULL_SINK

REPO = Path(__file__).resolve().parents[3]

RATE = 24000
# PulseAudio's null sink can take a second or two to start consuming a new stream
TIMEOUT_S = 20.0


def tone(freq: float, seconds: float, amplitude: float = 0.3) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(round(seconds * RATE)) / RATE)).astype(np.float32)


def wait_until(condition, timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s in vain")
        time.sleep(0.02)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def loud_part(samples: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples[:0]


@pytest.fixture
def recorder(sound_system):
    """Recording already: a new PulseAudio stream may take a moment to deliver its first block."""
    recorder = Recorder(sound_system)
    recorder.start()
    wait_until(lambda: recorder.recorded_s > 0.2)
    yield recorder
    recorder.stop()


@pytest.fixture
def player(sound_system):
    player = StreamingPlayer(sound_system)
    yield player
    player.stop()  # also when a test fails: no stream may outlive the test


def test_without_pulseaudio_the_setup_says_what_to_install(tmp_path):
    # what makes the sound tests fail (not skip) on a machine that lacks it
    result = subprocess.run(
        ["/bin/sh", str(START_NULL_SINK)], env={"PATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert result.returncode == 3
    assert "apt-get install -y pulseaudio libasound2-plugins libportaudio2" in result.stderr


def test_a_test_run_leaves_no_pulseaudio_server_running(tmp_path):
    inner = tmp_path / "inner"  # the inner run's temporary folders, its server's among them
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("DIA_PULSE_DIR", "XDG_RUNTIME_DIR", "PULSE_SERVER")}
    test = f"{Path(__file__).relative_to(REPO)}::test_devices_are_listed"
    try:
        finished = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   f"--basetemp={inner}", test], cwd=REPO, env=environment,
                                  capture_output=True, text=True, timeout=300)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        servers = list(inner.glob("pulse[0-9]*"))
        assert len(servers) == 1, "the run's server should live in a folder of the run"
        server = servers[0]
        asked = subprocess.run(["pactl", "info"], capture_output=True, timeout=30,
                               env={**environment, "PULSE_SERVER": f"unix:{server}/pulse/native"})
        assert asked.returncode != 0, "the server still answers"
        assert not (server / "pulse" / "pid").exists()
    finally:
        for server in inner.glob("pulse[0-9]*"):  # stop what a failing run left behind
            subprocess.run(["sh", str(STOP_NULL_SINK)], env={**environment, "DIA_PULSE_DIR": str(server)},
                           timeout=60)


def test_devices_are_listed(sound_system):
    assert sound_system.input_devices() and sound_system.output_devices()
    assert sound_system.default_input() is not None and sound_system.default_output() is not None


def test_a_played_tone_is_recorded_back(recorder, player):
    for chunk in np.array_split(tone(1000, 1.5), 10):
        player.append(chunk)
    player.finish()
    player.play()
    wait_until(lambda: recorder.level > 0.2)  # the meter sees the tone while it plays
    wait_until(lambda: player.state is PlayerState.ENDED)
    wait_until(lambda: recorder.level < 0.01)  # the tail has come through the sink
    take = recorder.stop()
    assert take.error is None and player.error is None
    assert player.underruns == 0
    assert player.position_s == pytest.approx(1.5)
    heard = loud_part(take.samples)
    assert len(heard) / take.sample_rate == pytest.approx(1.5, abs=0.05)
    assert dominant_frequency(heard, take.sample_rate) == pytest.approx(1000, abs=5)
    assert np.max(np.abs(heard)) == pytest.approx(0.3, rel=0.05)


def test_the_preview_plays_while_chunks_arrive_and_reports_a_starved_wait(recorder, player):
    player.play()  # before any audio exists, like the streaming preview
    player.append(tone(440, 0.6))
    wait_until(lambda: player.underruns == 1)  # the generator fell behind
    assert player.is_buffering and player.position_s <= 0.6

    def generate():
        for chunk in np.array_split(tone(880, 0.9), 9):
            player.append(chunk)
            time.sleep(0.05)  # twice real time
        player.finish()

    producer = threading.Thread(target=generate)
    producer.start()
    wait_until(lambda: player.state is PlayerState.ENDED)
    producer.join()
    wait_until(lambda: recorder.level < 0.01)
    take = recorder.stop()
    assert player.underruns == 1
    assert player.duration_s == pytest.approx(1.5)
    heard = loud_part(take.samples)
    rate = take.sample_rate
    first, last = heard[: int(0.4 * rate)], heard[-int(0.4 * rate) :]
    assert dominant_frequency(first, rate) == pytest.approx(440, abs=10)
    assert dominant_frequency(last, rate) == pytest.approx(880, abs=10)


def test_pause_and_resume_on_the_real_device(player):
    player.append(tone(600, 1.0))
    player.finish()
    player.play()
    wait_until(lambda: player.position_s > 0.3)
    player.pause()
    paused_at = player.position_s
    assert player.state is PlayerState.PAUSED and 0.3 < paused_at < 1.0
    time.sleep(0.2)
    assert player.position_s == paused_at
    player.play()
    wait_until(lambda: player.state is PlayerState.ENDED)
    assert player.position_s == pytest.approx(1.0)
