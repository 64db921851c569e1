"""Fixtures of the audio tests: test voices, and a PulseAudio null sink for the real backend."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

TESTS = Path(__file__).resolve().parents[2]
VOICES = TESTS / "fixtures" / "voices"
START_NULL_SINK = TESTS / "pulse" / "start_null_sink.sh"
STOP_NULL_SINK = TESTS / "pulse" / "stop_null_sink.sh"


@pytest.fixture(scope="session")
def voice() -> np.ndarray:
    """5 s of real speech as the model makes it (24 kHz mono float32): Vorbis needs speech-like
    content and a few seconds to settle on its average bitrate."""
    samples, rate = soundfile.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    assert rate == 24000
    return samples[: 5 * rate]


@pytest.fixture(scope="session")
def short_voice(voice) -> np.ndarray:
    """2 s of speech, for tests that need no bitrate average: they stay fast."""
    return voice[: 2 * 24000]


@pytest.fixture(scope="session")
def pulse_null_sink(tmp_path_factory) -> Iterator[None]:
    """A private PulseAudio server whose null sink's monitor is the default microphone.

    It runs in DIA_PULSE_DIR when that is set (tests/run.sh sets it and stops the server when the
    run ends), else in a folder of this test session, and stops with the session: no test run
    leaves a daemon behind, and two runs at once never share, or stop, each other's server.
    Fails (not skips) when PulseAudio is missing: CI installs it, and these tests are the only
    ones that prove the real sound path works.
    """
    given = os.environ.get("DIA_PULSE_DIR")
    environment = {**os.environ, "DIA_PULSE_DIR": given or str(tmp_path_factory.mktemp("pulse"))}
    result = subprocess.run(["sh", str(START_NULL_SINK)], env=environment, capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0:
        pytest.fail(
            f"Could not start the PulseAudio null sink ({START_NULL_SINK.name}, exit {result.returncode}): "
            f"{result.stderr.strip()}",
            pytrace=False,
        )
    for line in result.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        os.environ[name] = value
    yield
    if not given:
        subprocess.run(["sh", str(STOP_NULL_SINK)], env=environment, check=True, timeout=60)


@pytest.fixture(scope="session")
def sound_system(pulse_null_sink):
    """The real sounddevice backend, looking at the null sink."""
    from core.audio.sounddevice_backend import SoundDeviceBackend

    backend = SoundDeviceBackend()
    # PortAudio lists devices when it starts: it may have started before the server did.
    backend.refresh()
    return backend
