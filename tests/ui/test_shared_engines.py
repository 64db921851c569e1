"""The model process a test module's studios share (``SharedEngines`` in conftest.py): each studio
gets it as a fresh engine is (no model loaded, nothing running), its child kept warm between
tests, and one the test before left dead or busy is replaced."""

from __future__ import annotations

import os
import signal

import pytest

from core.engine.choice import EngineChoice
from core.engine.engine import EngineFailed, EngineKind, NoModelLoaded
from core.params import GenerationParams
from tests.ui.conftest import TINY_CHECKPOINT, LentEngine, SharedEngines

@pytest.fixture
def pool():
    engines = SharedEngines()
    yield engines
    engines.close()


def test_the_next_studio_gets_the_same_process_without_the_model_and_a_second_studio_its_own(pool):
    own = EngineChoice(EngineKind.OWN_PROCESS)
    first = pool.open(own)
    first.load(str(TINY_CHECKPOINT), "cpu", "float32")
    child = first.pid
    first.close()
    with pytest.raises(EngineFailed):  # a late call of the studio closed never reaches the next one's
        first.load(str(TINY_CHECKPOINT), "cpu", "float32")

    heard = []
    second = pool.open(own, on_speech_model_load=heard.append)
    assert isinstance(second, LentEngine) and second.pid == child and pool.opened == 1
    assert second.info is None  # as a fresh engine: nothing loaded until the studio loads
    with pytest.raises(NoModelLoaded):
        second.open_live_take(GenerationParams())
    second.speech_model = "whisper.pt"
    assert pool._engine.speech_model == "whisper.pt" and pool._engine._on_speech_model_load == heard.append
    again = pool.open(own)  # the app started again while the first still runs: an engine of its own
    assert not isinstance(again, LentEngine) and again.pid is None
    again.close()
    assert second.load(str(TINY_CHECKPOINT), "cpu", "float32").sample_rate == 24000 and second.pid == child
    second.close()
    assert pool._engine._on_speech_model_load is None  # nothing of a studio gone is called


def test_a_child_killed_or_an_engine_left_busy_is_replaced_at_the_next_hand_out(pool):
    own = EngineChoice(EngineKind.OWN_PROCESS)
    first = pool.open(own)
    first.load(str(TINY_CHECKPOINT), "cpu", "float32")
    killed = first.pid
    os.kill(killed, signal.SIGKILL)  # as a crash test does
    first.close()
    second = pool.open(own)
    assert second.pid not in (None, killed) and pool.opened == 1  # a fresh child, left for the next test
    second.load(str(TINY_CHECKPOINT), "cpu", "float32")
    take = second.open_live_take(GenerationParams.create(seed=1))  # never read nor closed: it holds the engine
    second.close()  # a studio quitting mid-call: its child is ended
    third = pool.open(own)
    assert pool.opened == 2 and pool._engine is not None and third.pid is None and third.info is None
    take.close()
    third.close()
