"""The model in a child process: what it streams equals what the studio's process makes, cancel
and errors cross the pipe as they are, and a child that dies (killed for real) leaves the take as
far as it was streamed, a reason, and a fresh child for the next call."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from huggingface_hub import try_to_load_from_cache

from core.dia2.checkpoint import WEIGHTS_FILE, CheckpointError, DownloadCancelled
from core.dia2.events import AudioChunk, GenerationRequest, Progress, TakeResult, TakeStarted, WordTiming
from core.dia2.script import UnknownSpeakerTag
from core.engine.engine import EngineFailed, NoModelLoaded
from core.engine.in_process import model_info
from core.engine.own_process import OwnProcessEngine
from core.engine.own_process.child_ended import ending
from core.engine.own_process.pickled_errors import packed, unpacked
from core.errors import InvalidParameter
from core.params import GenerationParams
from tests.core.dia2.golden import CHECKPOINT
from tests.hub_cache import use_temporary_hub_cache
from tests.local_hub import LocalHub
from tests.scripted_whisper import scripted_whisper_checkpoint

REQUEST = GenerationRequest("[S1] Hello there, how are you? [S2] Fine.", GenerationParams(seed=3))


@pytest.fixture(scope="module")
def engine():
    engine = OwnProcessEngine(threads=1)  # as tiny_runtime: the same arithmetic, the same samples
    engine.load(str(CHECKPOINT), "cpu", "float32")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def reference(tiny_runtime) -> list:
    """REQUEST's events as the studio's own process makes them."""
    return list(tiny_runtime.generate(REQUEST))


def final_take(events) -> TakeResult:
    (take,) = [event for event in events if isinstance(event, TakeResult)]
    return take


def wait_until_dead(pid: int) -> None:
    """Until the system has ended the process (a zombie, or gone), as Linux's /proc says."""
    stat = Path(f"/proc/{pid}/stat")
    while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
        time.sleep(0.01)


def comparable(event):
    """An event without what differs between two runs of the same request: the time it took."""
    if isinstance(event, Progress):
        return ("progress", event.take, event.frames, event.audio_s)
    if isinstance(event, AudioChunk):
        return ("chunk", event.take, event.samples.tobytes(), event.start_s, event.codes.tobytes())
    if isinstance(event, TakeResult):
        return ("take", event.take, event.seed, event.audio.tobytes(), event.codes.tobytes(), event.words,
                event.complete, event.notices, event.model, event.params)
    return event


def test_the_child_streams_the_events_the_studios_process_makes_sample_for_sample(engine, tiny_runtime, reference):
    assert engine.info == model_info(tiny_runtime) and engine.sample_rate == tiny_runtime.sample_rate
    ours = [comparable(event) for event in engine.generate(REQUEST)]
    theirs = [comparable(event) for event in reference]
    assert ours == theirs
    assert sum(event[0] == "chunk" for event in ours if isinstance(event, tuple)) > 5


def test_voices_are_encoded_in_the_child_as_in_the_studios_process(engine, tiny_runtime):
    samples = np.sin(np.arange(24000, dtype=np.float32) * 0.03) * 0.3
    torch.testing.assert_close(engine.encode_voice(samples), tiny_runtime.encode_voice(samples), rtol=0, atol=0)


def test_cancel_reaches_the_child_during_the_take_and_keeps_what_was_made(engine, reference):
    whole = sum(isinstance(event, AudioChunk) for event in reference)
    cancel = threading.Event()
    events = []
    for event in engine.generate(REQUEST, cancel):
        events.append(event)
        if isinstance(event, AudioChunk):
            cancel.set()
    *streamed, result = events
    assert isinstance(result, TakeResult) and not result.complete
    chunks = [event.samples for event in streamed if isinstance(event, AudioChunk)]
    np.testing.assert_array_equal(result.audio, np.concatenate(chunks))
    # Frames already made when the cancel crossed are kept; the child stopped long before the end.
    assert len(chunks) < whole / 2


def test_a_generation_left_part_way_leaves_the_pipe_clean_for_the_next(engine, reference):
    stream = engine.generate(REQUEST)
    assert isinstance(next(stream), TakeStarted)
    stream.close()  # the caller went away mid-stream
    np.testing.assert_array_equal(final_take(engine.generate(REQUEST)).audio, final_take(reference).audio)


def test_errors_raised_in_the_child_arrive_as_the_same_type_and_message(engine, tiny_runtime):
    with pytest.raises(UnknownSpeakerTag) as in_child:
        engine.parse("[S3] Who is this?")
    with pytest.raises(UnknownSpeakerTag) as here:
        tiny_runtime.parse("[S3] Who is this?")
    assert str(in_child.value) == str(here.value)
    assert "Raised in the model's process" in "".join(in_child.value.__notes__)

    # An error whose __init__ takes other arguments than its message, with its attributes.
    with pytest.raises(InvalidParameter) as stereo:
        engine.transcribe(np.zeros((2, 1000), np.float32), 24000)
    assert stereo.value.field == "audio" and "must be mono" in str(stereo.value)

    with pytest.raises(CheckpointError, match="is not a folder"):
        engine.load(str(CHECKPOINT / "config.json"), "cpu", "float32")  # a file, not a model folder
    assert engine.info.name == str(CHECKPOINT.resolve())  # the model loaded before is still there
    engine.parse("[S1] Still loaded.")


def test_cuda_out_of_memory_crosses_as_torchs_own_error():
    error = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    crossed = unpacked(*packed(error))
    assert type(crossed) is torch.OutOfMemoryError and str(crossed) == str(error)


def test_an_error_of_a_type_the_studio_cannot_import_still_says_what_happened():
    crossed = unpacked("nowhere.to.be.found", "StrangeError", ("the words",), {}, "")
    assert isinstance(crossed, EngineFailed) and "StrangeError: the words" in str(crossed)


def test_a_child_killed_mid_take_leaves_the_streamed_part_names_the_signal_and_starts_again(
        engine, tiny_runtime, reference):
    streamed = []
    with pytest.raises(EngineFailed) as failed:
        for event in engine.generate(REQUEST):
            streamed.append(event)
            if sum(isinstance(e, AudioChunk) for e in streamed) == 3 and isinstance(event, AudioChunk):
                os.kill(engine.pid, signal.SIGKILL)
    assert "killed by SIGKILL (often: out of memory)" in str(failed.value)
    *before, unfinished = streamed
    assert isinstance(unfinished, TakeResult) and not unfinished.complete
    assert unfinished.notices == ["Cut short: the model's process was killed by SIGKILL (often: out of memory)."]
    chunks = [event for event in before if isinstance(event, AudioChunk)]
    assert len(chunks) >= 3
    np.testing.assert_array_equal(unfinished.audio, np.concatenate([chunk.samples for chunk in chunks]))
    np.testing.assert_array_equal(unfinished.codes, np.concatenate([chunk.codes for chunk in chunks], axis=1))
    assert unfinished.words == [(e.word, e.start_s) for e in before if isinstance(e, WordTiming)]
    assert unfinished.model == tiny_runtime.name and unfinished.sample_rate == tiny_runtime.sample_rate

    # The next call starts a fresh child with the same model: the same take as before the crash.
    again = final_take(engine.generate(REQUEST))
    assert again.complete
    np.testing.assert_array_equal(again.audio, final_take(reference).audio)


def test_a_child_that_died_between_calls_is_replaced_without_a_word(engine):
    first = engine.pid
    os.kill(first, signal.SIGSEGV)
    wait_until_dead(first)
    engine.parse("[S1] Still here?")  # no error: nothing was lost
    assert engine.pid != first


@pytest.mark.parametrize(("exitcode", "said"), [
    (-signal.SIGSEGV, "crashed with SIGSEGV (a fault in native code, such as a GPU driver)"),
    (-signal.SIGKILL, "was killed by SIGKILL (often: out of memory)"),
    (-signal.SIGUSR1, "was ended by SIGUSR1"),
    (3, "exited with code 3"),
])
def test_how_the_child_ended_is_said_in_words(exitcode, said):
    assert ending(exitcode) == said


def test_nothing_runs_before_a_model_is_loaded_and_unloading_ends_the_child():
    engine = OwnProcessEngine(threads=1)
    with pytest.raises(NoModelLoaded):
        next(engine.generate(REQUEST))
    assert engine.pid is None  # nothing was started for it
    engine.load(str(CHECKPOINT), "cpu", "float32")
    child = engine.pid
    engine.unload()
    assert engine.info is None and engine.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    engine.close()


def test_a_download_in_the_child_reports_progress_and_stops_when_the_progress_refuses(tmp_path, monkeypatch):
    # The child is a fresh interpreter: the Hub it downloads from is set through the environment.
    cache = use_temporary_hub_cache(tmp_path, monkeypatch)
    weights = os.urandom(48 * 2**20)  # in the child the Hub reports progress per 10 MB
    hub = LocalHub({"org/model": {"config.json": b"{}", WEIGHTS_FILE: weights}})
    hub.start()
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    reports = []

    def progress(done, total, what):
        reports.append((done, total, what))
        if done > len(weights) / 8:  # a part of the weights in
            raise DownloadCancelled(f"Download of {what} cancelled.")  # as the window's Cancel does

    engine = OwnProcessEngine(threads=1)
    try:
        with pytest.raises(DownloadCancelled) as cancelled:
            engine.load("org/model", "cpu", "float32", progress)
    finally:
        engine.close()
        hub.stop()
    assert str(cancelled.value) == "Download of org/model cancelled."
    # Reported in this process as the bytes came; nothing reported once refused.
    assert reports[-1][0] < len(weights) < reports[-1][1] and reports[-1][2] == "org/model"
    assert not isinstance(try_to_load_from_cache("org/model", WEIGHTS_FILE, cache_dir=cache), str)
    assert engine.info is None


def test_voices_are_transcribed_in_the_child_with_the_speech_model_chosen(engine, tmp_path):
    heard_first = scripted_whisper_checkpoint(["Hello", "there"], tmp_path / "first.pt")
    heard_next = scripted_whisper_checkpoint(["Good", "night"], tmp_path / "next.pt")
    loading = []
    engine._on_speech_model_load = loading.append  # as the window's constructor would give it
    samples = np.sin(np.arange(48000, dtype=np.float32) * 0.05) * 0.3
    engine.speech_model = str(heard_first)
    assert [word.text for word in engine.transcribe(samples, 24000)] == ["Hello", "there"]
    engine.speech_model = str(heard_next)
    assert [word.text for word in engine.transcribe(samples, 24000)] == ["Good", "night"]
    assert loading == [str(heard_first), str(heard_next)]  # told here, each loaded once


def test_closing_while_a_call_runs_ends_the_child_instead_of_waiting_for_it():
    engine = OwnProcessEngine(threads=1)
    engine.load(str(CHECKPOINT), "cpu", "float32")
    first_chunk, outcome = threading.Event(), []

    def generate() -> None:
        try:
            for event in engine.generate(REQUEST):
                if isinstance(event, AudioChunk):
                    first_chunk.set()
        except EngineFailed as error:
            outcome.append(error)

    generating = threading.Thread(target=generate)
    generating.start()
    assert first_chunk.wait(60)
    engine.close()  # the studio quits mid-generation
    generating.join(60)
    assert not generating.is_alive() and "was killed by SIGKILL" in str(outcome[0])


def test_the_childs_voices_kept_warm_are_said_in_its_memory_report(engine):
    from tests.core.dia2.golden import GoldenCase

    case = GoldenCase("clone_s1_cfg1_crop")
    list(engine.generate(GenerationRequest(case.json["script"], GenerationParams(seed=2), case.voice_prompts())))
    assert engine.memory().warm_voices_bytes > 0  # as the child said with its answer
