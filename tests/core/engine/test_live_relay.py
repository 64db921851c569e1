"""Live takes through the engine interface: in-process (the runtime's own), in the model's own
process (text relayed to the child, events back), on a remote serve (over /v1/engine). The same
pieces with the same seed give the samples of the runtime's live take; cancel, a refused piece,
a busy engine and a child killed mid-take behave as they do for ``generate``."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from core.dia2 import generator
from core.dia2.events import AudioChunk, GenerationBusy, Stalled, TakeStarted
from core.dia2.incremental_script import TextAfterEnd
from core.dia2.script import UnspeakableScript
from core.engine.engine import EngineFailed, NoModelLoaded
from core.engine.in_process import InProcessEngine
from core.engine.own_process import OwnProcessEngine
from core.params import GenerationParams
from tests.core.dia2.golden import CHECKPOINT, GoldenCase
from tests.live_feeding import fed_from_a_thread, result_of
from tests.service.remote_engine import memory_once_read

DIALOGUE = "[S1] Hello there. [S2] Hi! (laughs) [S1] How are you today? [S2] Fine, thanks."
PIECES = ["[S1] Hel", "lo the", "re. [S2] Hi", "! (laughs) [S1] How", " are you", " today? [S2] Fi", "ne, thanks."]


@pytest.fixture(autouse=True)
def quick_stall_reports(monkeypatch):
    monkeypatch.setattr(generator, "STALL_REPORT_S", 0.05)


@pytest.fixture(scope="module")
def own_process():
    engine = OwnProcessEngine(threads=1)  # as tiny_runtime: the same arithmetic, the same samples
    engine.load(str(CHECKPOINT), "cpu", "float32")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def remote(remote_engine_server):
    engine = remote_engine_server.engine()
    engine.load(str(CHECKPOINT))
    yield engine
    engine.close()


@pytest.fixture(params=["in-process", "own-process", "remote"])
def engine(request, tiny_runtime):
    if request.param == "in-process":
        return _loaded_in_process(tiny_runtime)
    return request.getfixturevalue(request.param.replace("-", "_"))


def _loaded_in_process(runtime) -> InProcessEngine:
    engine = InProcessEngine(lambda *args, **kwargs: runtime)
    engine.load("tiny")
    return engine


def test_a_live_take_on_an_engine_gives_the_runtimes_live_take(engine, tiny_runtime):
    params = GenerationParams.create(seed=11, cfg_scale=2.0)
    voices = GoldenCase("clone_s1_cfg1_crop").voice_prompts()
    here = result_of(fed_from_a_thread(tiny_runtime.open_live_take(params, voices), PIECES))

    events = fed_from_a_thread(engine.open_live_take(params, voices), PIECES)

    there = result_of(events)
    assert isinstance(events[0], TakeStarted) and events[0].seed == 11
    assert there.complete and there.seed == here.seed == 11
    np.testing.assert_array_equal(there.audio, here.audio)
    np.testing.assert_array_equal(there.codes, here.codes)
    assert there.words == here.words
    streamed = np.concatenate([event.samples for event in events if isinstance(event, AudioChunk)])
    np.testing.assert_array_equal(streamed, there.audio)


def test_a_live_take_waits_for_its_text_and_a_cancel_keeps_what_was_made(engine):
    take = engine.open_live_take(GenerationParams.create(seed=4))
    take.push_text("[S1] Hello there, how are you doing ")
    events = []
    for event in take.events():
        events.append(event)
        if isinstance(event, Stalled) and any(isinstance(e, AudioChunk) for e in events):
            take.cancel()  # waiting for the words after "are": the take ends at once
    result = result_of(events)
    assert not result.complete and [word for word, _ in result.words] == ["Hello", "there,", "how", "are"]
    take.push_text("ignored once cancelled ")
    # The engine is free again.
    again = result_of(fed_from_a_thread(engine.open_live_take(GenerationParams.create(seed=1)), ["[S1] Hi."]))
    assert again.complete


def test_one_live_take_at_a_time_and_text_after_the_end_is_refused(engine):
    take = engine.open_live_take(GenerationParams.create(seed=2))
    with pytest.raises(GenerationBusy):
        engine.open_live_take(GenerationParams.create(seed=3))
    take.push_text("[S1] Hi there.")
    take.end_text()
    with pytest.raises(TextAfterEnd):
        take.push_text(" More.")
    assert result_of(take.events()).complete
    engine.open_live_take(GenerationParams.create(seed=3)).close()  # free again; closed unread, free again
    assert result_of(fed_from_a_thread(engine.open_live_take(GenerationParams.create(seed=3)), ["[S1] Ok."])).complete


@pytest.mark.parametrize("relayed", ["own-process", "remote"])
def test_markup_the_model_cannot_follow_ends_a_relayed_take_with_the_reason(request, relayed):
    engine = request.getfixturevalue(relayed.replace("-", "_"))
    take = engine.open_live_take(GenerationParams.create(seed=5))
    take.push_text("[S1] Hello there [S3] who")
    events = []
    with pytest.raises(UnspeakableScript, match=r"S3"):
        for event in take.events():
            events.append(event)
    assert not result_of(events).complete


def test_an_engine_without_a_model_says_so():
    with pytest.raises(NoModelLoaded):
        OwnProcessEngine().open_live_take(GenerationParams())
    with pytest.raises(NoModelLoaded):
        InProcessEngine().open_live_take(GenerationParams())


def test_the_models_process_killed_mid_take_keeps_what_was_streamed_and_the_next_take_works(own_process):
    take = own_process.open_live_take(GenerationParams.create(seed=7))
    take.push_text("[S1] Hello there, how are you doing ")
    events = []
    with pytest.raises(EngineFailed, match="SIGKILL"):
        for event in take.events():
            events.append(event)
            if isinstance(event, Stalled) and any(isinstance(e, AudioChunk) for e in events):
                os.kill(own_process.pid, signal.SIGKILL)
    cut = result_of(events)
    assert not cut.complete and "SIGKILL" in cut.notices[0]
    streamed = np.concatenate([event.samples for event in events if isinstance(event, AudioChunk)])
    np.testing.assert_array_equal(cut.audio, streamed)
    # A fresh process, with the same model, for the next take.
    assert result_of(fed_from_a_thread(own_process.open_live_take(GenerationParams.create(seed=1)),
                                       ["[S1] Hi."])).complete


def test_the_remote_engines_memory_report_never_waits_behind_a_take_in_flight(remote):
    said = memory_once_read(remote)  # asked of the server
    remote.memory()  # another read starts: the take waits for it, not refused as busy
    take = remote.open_live_take(GenerationParams.create(seed=1))  # holds the connection until it ends
    try:
        assert remote.memory() == said  # as the server last said, at once (the status bar asks on the GUI thread)
    finally:
        take.close()
    assert result_of(fed_from_a_thread(remote.open_live_take(GenerationParams.create(seed=1)), ["[S1] Hi."])).complete
