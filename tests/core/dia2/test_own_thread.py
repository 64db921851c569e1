"""Model work a caller may run on any thread (Whisper, the codec's encoding) leaves that thread as
it found it: its torch thread count, and no OpenMP workers kept for it (issue 23.6: a server's
pooled thread that had prepared a live take's voice kept them, and every later task was slower).

The checks that read thread counts run in a fresh process: numba sets a thread's OpenMP count only
at its first parallel loop in a process, and OpenMP workers are counted process-wide."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core.dia2.own_thread import on_own_thread

REPO = Path(__file__).resolve().parents[3]
LINUX_THREADS = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")


def run_program(program: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(program)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO), **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_work_runs_on_a_thread_that_has_ended_by_the_time_its_result_is_back():
    ran_on = []
    assert on_own_thread(lambda a, b: ran_on.append(threading.current_thread()) or a + b, 2, 3) == 5
    assert ran_on[0] is not threading.current_thread() and not ran_on[0].is_alive()


def test_the_works_exception_is_raised_on_the_callers_thread():
    def fail():
        raise ValueError("no voice")

    with pytest.raises(ValueError, match="no voice"):
        on_own_thread(fail)


def test_transcribing_keeps_the_callers_torch_thread_count(tmp_path):
    # numba's word-timing loop asks for 3 threads here, whatever the machine: before the fix its
    # first loop left the calling thread (a server's task runner) with 3 instead of 1.
    program = f"""
        import soundfile, torch
        from core.dia2.transcribe import WhisperTranscriber
        from tests.scripted_whisper import scripted_whisper_checkpoint

        torch.set_num_threads(1)
        transcriber = WhisperTranscriber(str(scripted_whisper_checkpoint(["Hello"], {str(tmp_path / "w.pt")!r})),
                                         device="cpu")
        samples, rate = soundfile.read({str(REPO / "tests/fixtures/voices/speaker1_24k_mono.wav")!r}, dtype="float32")
        assert torch.get_num_threads() == 1
        transcriber.transcribe(samples, rate)
        print(torch.get_num_threads())
    """
    assert run_program(program, NUMBA_NUM_THREADS="3") == "1"


@LINUX_THREADS
def test_encoding_a_voice_leaves_no_openmp_workers_with_a_thread_that_lives_on():
    # A pooled thread (asyncio's, which prepared a live take's voice) encodes with 2 torch threads
    # and lives on; the OpenMP worker of that encoding must not live on with it.
    program = f"""
        import os, threading, time
        import numpy as np, torch
        from core.dia2.script_codec import ScriptCodec

        torch.set_num_threads(2)
        codec = ScriptCodec.load({str(REPO / "tests/fixtures/dia2_parity/checkpoint")!r})
        samples = np.random.default_rng(0).uniform(-0.5, 0.5, codec.sample_rate * 2).astype(np.float32)

        def native_threads():
            return len(os.listdir("/proc/self/task")) - len(threading.enumerate())

        before, encoded, stop = native_threads(), threading.Event(), threading.Event()
        pooled = threading.Thread(target=lambda: (codec.encode_voice(samples), encoded.set(), stop.wait()))
        pooled.start()
        encoded.wait()
        deadline = time.monotonic() + 10  # workers of an ended thread leave soon after it
        while native_threads() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        print(native_threads() - before)
        stop.set()
    """
    assert run_program(program) == "0"
