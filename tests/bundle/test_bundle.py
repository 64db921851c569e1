"""Smoke test of the built bundle (installer/build.sh): every subcommand, each export format
decoded by readers of its own, voices with and without Whisper, the window, the sound devices.
Run with ``pytest tests/bundle -m bundle``; the default test run leaves these out."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tomllib
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.bundle.conftest import REPO, first_time_user
from tests.core.dia2.golden import CHECKPOINT
from tests.scripted_whisper import scripted_whisper_checkpoint
from tests.service.server_process import ServerProcess

pytestmark = pytest.mark.bundle

VOICE = REPO / "tests" / "fixtures" / "voices" / "speaker1_24k_mono.wav"
SCRIPT = "[S1] Hello there. [S2] Hi! (laughs) How are you?"
RENDER = ("render", "--model", str(CHECKPOINT), "--device", "cpu", "--threads", "1", "--seed", "5")
WINDOW_PROBE = Path(__file__).with_name("window_probe.py")
# ffprobe's name for each format's codec
CODECS = {"wav": "pcm_s16le", "flac": "flac", "mp3": "mp3", "ogg": "vorbis"}


def _ffprobe(path: Path) -> dict:
    shown = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True, timeout=60)
    return json.loads(shown.stdout)["streams"][0]


def _decoded_by_ffmpeg(path: Path) -> np.ndarray:
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-"],
                             capture_output=True, check=True, timeout=60)
    return np.frombuffer(decoded.stdout, dtype=np.float32)


def _rendered(result: subprocess.CompletedProcess, out: Path) -> np.ndarray:
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    samples = _decoded_by_ffmpeg(out)
    assert np.abs(samples).max() > 0.01  # sound, not silence
    return samples


def test_says_its_version(run_bundle):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    result = run_bundle("--version")
    assert (result.returncode, result.stdout) == (0, f"dia-studio {project['version']}\n"), result.stderr


def test_an_unknown_command_is_refused_on_stderr(run_bundle):
    # stderr passes through the leak filter, a process the bundle starts as its own `-c CODE`
    result = run_bundle("rendr")
    assert result.returncode == 2
    assert "did you mean render?" in result.stderr and "serve" in result.stderr


def test_a_process_started_with_multiprocessing_runs_its_target(run_bundle):
    # a spawned process starts this program again, with multiprocessing's arguments
    started = ("import multiprocessing; context = multiprocessing.get_context('spawn'); queue = context.Queue(); "
               "child = context.Process(target=queue.put, args=('ran',)); child.start(); child.join(); "
               "print(child.exitcode, queue.get(timeout=60) if child.exitcode == 0 else '')")
    result = run_bundle("-c", started)
    assert (result.returncode, result.stdout) == (0, "0 ran\n"), result.stderr


@pytest.mark.parametrize("extension", ["wav", "flac", "mp3", "ogg"])
def test_renders_to_each_format(run_bundle, home, extension):
    out = home / f"dialogue.{extension}"
    samples = _rendered(run_bundle(*RENDER, "--script", SCRIPT, "--out", str(out)), out)
    stream = _ffprobe(out)
    assert stream["codec_name"] == CODECS[extension]
    assert len(samples) / int(stream["sample_rate"]) == pytest.approx(float(stream["duration"]), abs=0.1)
    if extension in ("wav", "flac"):  # libsndfile, as a second reader of the lossless files
        assert soundfile.info(str(out)).samplerate == int(stream["sample_rate"])


def test_a_voice_with_a_word_list_needs_no_whisper(run_bundle, home):
    words = home / "words.json"
    words.write_text(json.dumps([["Hello", 0.3, 0.7], ["there.", 0.8, 1.2], ["This", 1.4, 1.6], ["is", 1.7, 1.8]]))
    out = home / "voiced.wav"
    result = run_bundle(*RENDER, "--script", SCRIPT, "--s1", str(VOICE), "--s1-words", str(words), "--out", str(out))
    _rendered(result, out)
    assert "[S1] voice:" in result.stderr and "Whisper" not in result.stderr


def test_a_voice_through_whisper_from_a_local_checkpoint(run_bundle, home):
    whisper = scripted_whisper_checkpoint(["Hello", "world"], home / "whisper.pt")
    out = home / "heard.wav"
    result = run_bundle(*RENDER, "--script", SCRIPT, "--s1", str(VOICE), "--whisper-model", str(whisper),
                        "--out", str(out))
    _rendered(result, out)
    assert "loading Whisper" in result.stderr
    heard = next(line for line in result.stderr.splitlines() if "[S1] voice:" in line)
    assert "Hello world" in heard  # the words Whisper heard (with its word timings: numba in the bundle)


def test_serves_the_task_api(bundle, home):
    server = ServerProcess(home / "data", program=(str(bundle),), env=first_time_user(home))
    try:
        server.wait_until_ready()
        task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 2, "speech": {"text": SCRIPT},
                "outputType": "base64Data", "outputFormat": "FLAC"}
        status, answer = server.post([task])
    finally:
        server.stop()
    assert status == 200 and "errors" not in answer, answer
    audio, rate = soundfile.read(io.BytesIO(base64.b64decode(answer["data"][0]["audioBase64Data"])))
    assert rate == 24000 and len(audio) > rate // 2 and abs(audio).max() > 0.01


# offscreen, and the X11 plugin (with the libraries it brings) as on a desktop, on Xvfb
PLATFORMS = {"offscreen": (), "xcb": ("xvfb-run", "-a", "-s", "-screen 0 1280x800x24")}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_window_opens_on_the_example_project_and_closes(run_bundle, home, platform):
    result = run_bundle("-c", WINDOW_PROBE.read_text(), under=PLATFORMS[platform], QT_QPA_PLATFORM=platform)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["platform"] == platform
    assert len(shown["lines"]) == 4 and "Welcome back to the studio!" in shown["lines"][0]
    assert "model manager" in shown["banner"]  # no model yet: the first start points to it
    # what the first start wrote is in the person's folders
    assert (home / ".config" / "Dia Studio" / "Dia Studio.conf").is_file()


def test_lists_the_sound_devices(run_bundle, pulse_null_sink):
    listing = ("import json; from core.audio.sounddevice_backend import SoundDeviceBackend as B; b = B(); "
               "print(json.dumps([[d.name for d in b.input_devices()], [d.name for d in b.output_devices()]]))")
    result = run_bundle("-c", listing)
    assert result.returncode == 0, result.stderr
    inputs, outputs = json.loads(result.stdout)
    assert "pulse" in inputs and "pulse" in outputs  # PortAudio → ALSA → the PulseAudio null sink


def test_checks_a_take_with_the_speaker_encoder_it_carries(run_bundle, home):
    from tests.app.test_check import write_take
    from tests.core.take_checks import dialogue

    flags = write_take(home, dialogue.take_of(dialogue.swapped(dialogue.clean_parts())))
    result = run_bundle("check", *flags, "--json")
    assert result.returncode == 1, result.stderr  # 1: a line is bad
    report = json.loads(result.stdout)
    assert [line["verdict"] for line in report["lines"]] == ["good", "good", "bad", "good"]
    assert report["lines"][2]["flags"][0]["kind"] == "speaker"
