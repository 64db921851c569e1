"""`dia-studio speak` with the tiny parity checkpoint: stdin read as it arrives (a slow pipe, a
pipe left open), a file that is render's, raw PCM before stdin ends, Ctrl-C keeping what was made,
the sound device (faked behind the backend interface), and clear errors before the model loads."""

from __future__ import annotations

import os
import queue
import pty
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.main import main
from app.speak import run_speak
from core.audio.capture import Recorder
from core.dia2.events import GenerationRequest
from core.params import GenerationParams
from tests.app.test_cli_render import UNWRITABLE, needs_unwritable
from tests.core.audio.conftest import pulse_null_sink, sound_system  # noqa: F401 (fixtures)
from tests.core.dia2.golden import CHECKPOINT
from tests.fake_sound_card import FakeBackend

REPO = Path(__file__).parents[2]
MODEL = ["--model", str(CHECKPOINT), "--device", "cpu", "--dtype", "float32", "--threads", "1"]
TEXT = "[S1] Hello there, my friend. [S2] Hi, how are you?"
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(REPO)}


def _speak_command(*flags: str) -> list[str]:
    return [sys.executable, "-m", "app.main", "speak", *MODEL, *flags]


def _offline(runtime, text: str, seed: int) -> np.ndarray:
    (take,) = runtime.render(GenerationRequest(text, GenerationParams(seed=seed)))
    return take.audio


@pytest.mark.slow  # two model loads, one in a process of its own: ~25 s
def test_speak_fed_by_a_slow_pipe_writes_what_render_writes(tmp_path):
    # A writer that thinks between pieces, mid-word and mid-line, as a language model does.
    writer = textwrap.dedent(f"""
        import sys, time
        text = {TEXT!r}
        for at in range(0, len(text), 7):
            sys.stdout.write(text[at:at + 7]); sys.stdout.flush(); time.sleep(0.1)
    """)
    spoken = tmp_path / "spoken.wav"
    pipeline = subprocess.run(shlex.join([sys.executable, "-c", writer]) + " | "
                              + shlex.join(_speak_command("--seed", "31", "-o", str(spoken))),
                              shell=True, cwd=REPO, env=ENVIRONMENT, capture_output=True, text=True, timeout=300)
    assert pipeline.returncode == 0, pipeline.stderr
    assert f"wrote {spoken}" in pipeline.stderr and "seed 31" in pipeline.stderr
    rendered = tmp_path / "rendered.wav"
    assert main(["render", *MODEL, "--script", TEXT, "--seed", "31", "--out", str(rendered)]) == 0
    spoken_audio, rate = soundfile.read(spoken, dtype="int16")
    rendered_audio, _ = soundfile.read(rendered, dtype="int16")
    assert rate == 24000 and len(spoken_audio) > 24000
    assert np.array_equal(spoken_audio, rendered_audio)


def test_raw_pcm_comes_out_before_stdin_ends_and_is_the_offline_take(tiny_runtime):
    speak = subprocess.Popen(_speak_command("--seed", "12", "--raw"), cwd=REPO, env=ENVIRONMENT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        speak.stdin.write(TEXT.encode())  # no end yet: the pipe stays open
        speak.stdin.flush()
        first = os.read(speak.stdout.fileno(), 4096)
        assert first  # audio while stdin is still open
        speak.stdin.close()
        rest = speak.stdout.read()
        assert speak.wait(timeout=120) == 0, speak.stderr.read().decode()
    finally:
        speak.kill()
        speak.wait()
    samples = np.frombuffer(first + rest, "<f4")
    assert np.array_equal(samples, _offline(tiny_runtime, TEXT, 12))


def test_ctrl_c_stops_and_the_file_keeps_what_was_made(tmp_path):
    out = tmp_path / "stopped.flac"
    speak = subprocess.Popen(_speak_command("--seed", "5", "-o", str(out)), cwd=REPO, env=ENVIRONMENT,
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()  # stderr, read on a thread: every wait below has a deadline

    def read_stderr() -> None:
        for line in speak.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_stderr, daemon=True).start()
    said = []

    def said_until(found, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                return False  # stderr closed
            said.append(line)
            if found(line):
                return True
        return False

    try:
        speak.stdin.write(TEXT + " And then ")  # left open: the take would wait for more
        speak.stdin.flush()
        # A progress line, or the wait for more text: each says how much was made.
        assert said_until(lambda line: "s of audio" in line and " 0.0 s" not in line, 180), "".join(said)
        speak.send_signal(signal.SIGINT)
        assert speak.wait(timeout=120) == 130, "".join(said)
        said_until(lambda line: False, 5)  # the rest of what it said
    finally:
        speak.kill()
        speak.wait()
    said = "".join(said)
    assert "what was made before the stop" in said
    audio, rate = soundfile.read(out)
    assert rate == 24000 and 0 < len(audio) and np.abs(audio).max() > 0.01


def test_speak_plays_the_take_on_the_sound_device_as_it_is_made(tiny_runtime):
    backend = FakeBackend(speed=20.0)
    reading, writing = os.pipe()

    def write_slowly() -> None:
        with os.fdopen(writing, "w") as pipe:
            for word in TEXT.split(" "):
                pipe.write(word + " ")
                pipe.flush()
                time.sleep(0.05)

    threading.Thread(target=write_slowly, daemon=True).start()
    with os.fdopen(reading, "rb") as stdin:
        assert run_speak([*MODEL, "--seed", "9"], sound_system=backend, stdin=stdin) == 0
    (stream,) = backend.streams
    played = stream.played_audio
    assert stream.sample_rate == 24000 and np.array_equal(played[:, 0], played[:, 1])
    take = _offline(tiny_runtime, TEXT, 9)
    # What the device played, less the silence it played while waiting for audio, is the take.
    assert np.array_equal(played[:, 0][played[:, 0] != 0], take[take != 0])


@pytest.mark.parametrize("flags, message", [
    (["--bitrate", "128"], "--bitrate need -o FILE"),
    (["--raw", "--sample-rate", "12345"], "--sample-rate = 12345 is not allowed"),
    (["--encoding", "pcm_s16le"], "--encoding is the PCM of --raw"),
    (["--sample-rate", "16000"], "--sample-rate needs -o FILE or --raw"),
    (["-o", "take.aiff"], "aiff"),
    (["--cfg-scale", "99"], "CFGScale = 99.0 is not allowed"),
    (["--threads", "0"], "--threads 0: give 1 or more"),
    (["--warm-voices-mb", "-1"], "--warm-voices-mb -1: give 0 or more"),
    (["-o", "take.wav", "--loudness", "50"], "--loudness 50: give -70 to 0 LUFS"),
    pytest.param(["-o", str(UNWRITABLE / "take.wav")], f"the folder {UNWRITABLE} cannot be written to",
                 marks=needs_unwritable),
])
def test_bad_flags_are_refused_before_the_model_loads(flags, message, capsys):
    assert run_speak(["--model", "/no/such/model", *flags], sound_system=FakeBackend()) == 2
    error = capsys.readouterr().err
    assert message in error and "loading" not in error


def test_raw_pcm_is_not_written_to_a_terminal(capsys):
    terminal, other_end = pty.openpty()
    try:
        with os.fdopen(terminal, "wb", closefd=False) as stdout:
            assert run_speak(["--model", "/no/such/model", "--raw"], stdout=stdout) == 2
    finally:
        os.close(terminal)
        os.close(other_end)
    assert "pipe it into a player" in capsys.readouterr().err


def test_without_a_sound_output_it_says_what_to_do_instead(capsys):
    assert run_speak(["--model", "/no/such/model"], sound_system=FakeBackend(outputs=())) == 2
    assert "write a file (-o) or raw PCM (--raw)" in capsys.readouterr().err


def test_stdin_without_words_is_an_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "nothing.wav"
    reading, writing = os.pipe()
    os.write(writing, b"  \n ")
    os.close(writing)
    with os.fdopen(reading, "rb") as stdin:
        assert run_speak([*MODEL, "-o", str(out)], stdin=stdin) == 2
    assert "stdin:" in capsys.readouterr().err and not out.exists()


@pytest.mark.slow  # a model load in a process of its own, and PulseAudio's start: ~25 s
def test_speak_is_heard_on_a_real_sound_system(sound_system):
    # The PulseAudio null sink's monitor is the default microphone: what speak plays, it hears.
    recorder = Recorder(sound_system)
    recorder.start()
    try:
        speak = subprocess.run(_speak_command("--seed", "9"), input=TEXT, cwd=REPO, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    finally:
        heard = recorder.stop()
    assert speak.returncode == 0, speak.stderr
    played_s = float(re.search(r"played ([\d.]+) s", speak.stderr).group(1))
    loud = np.flatnonzero(np.abs(heard.samples) > 0.01)
    assert heard.error is None and played_s > 1 and len(loud)
    assert (loud[-1] - loud[0]) / heard.sample_rate > 0.8 * played_s


def test_an_unknown_speaker_tag_is_left_out_alone_and_the_words_around_it_are_spoken(tmp_path, capsys):
    """Read in one piece (as when stdin comes before the model has loaded), the bad tag took the
    whole piece with it: nothing was spoken, exit 2. One at the very end failed the take's end."""
    out = tmp_path / "spoken.wav"
    reading, writing = os.pipe()
    os.write(writing, b"[S1] Hello there. [S3] Who? [S2] Me. [S4]")
    os.close(writing)
    with os.fdopen(reading, "rb") as stdin:
        assert run_speak([*MODEL, "--seed", "5", "-o", str(out)], stdin=stdin) == 0
    said = capsys.readouterr().err
    assert "note: left out [S3]: [S3] is not a speaker tag" in said and f"wrote {out}" in said
    assert "note: left out [S4]: [S4] is not a speaker tag" in said
    assert soundfile.SoundFile(out).copy_metadata()["title"] == "[S1] Hello there. Who? [S2] Me."
    rendered = tmp_path / "rendered.wav"
    assert main(["render", *MODEL, "--script", "[S1] Hello there. Who? [S2] Me.", "--seed", "5",
                 "--out", str(rendered)]) == 0
    assert np.array_equal(soundfile.read(out, dtype="int16")[0], soundfile.read(rendered, dtype="int16")[0])
