"""The engine in the studio's own process: the runtime behind the engine interface, and Whisper
loaded only when a voice is first transcribed."""

from __future__ import annotations

import numpy as np
import pytest

from core.dia2.events import GenerationRequest, TakeResult
from core.engine.engine import NoModelLoaded
from core.engine.in_process import InProcessEngine, model_info
from core.params import GenerationParams
from tests.core.dia2.golden import CHECKPOINT
from tests.scripted_whisper import scripted_whisper_checkpoint


def test_the_loaded_model_is_described_and_generates_as_its_runtime(tiny_runtime):
    engine = InProcessEngine(threads=1)
    with pytest.raises(NoModelLoaded):
        engine.parse("[S1] Hi.")
    info = engine.load(str(CHECKPOINT), "cpu", "float32")
    assert info == engine.info == model_info(tiny_runtime)
    assert (info.device, info.precision, info.sample_rate) == ("cpu", "float32", 24000)
    assert info.weights_bytes == sum(p.numel() * 4 for p in tiny_runtime.model.parameters())
    assert engine.memory().process_bytes > info.weights_bytes and engine.memory().device_bytes is None
    request = GenerationRequest("[S1] Hello there.", GenerationParams(seed=2))
    ours = [event for event in engine.generate(request) if isinstance(event, TakeResult)]
    theirs = [event for event in tiny_runtime.generate(request) if isinstance(event, TakeResult)]
    np.testing.assert_array_equal(ours[0].audio, theirs[0].audio)
    engine.unload()
    assert engine.info is None
    with pytest.raises(NoModelLoaded):
        engine.encode_voice(np.zeros(2400, np.float32))


def test_whisper_is_loaded_at_the_first_transcription_and_again_when_another_is_chosen(tmp_path):
    loading = []
    first = scripted_whisper_checkpoint(["Hello", "there"], tmp_path / "first.pt")
    engine = InProcessEngine(speech_model=str(first), on_speech_model_load=loading.append)
    assert loading == []  # nothing loaded before a voice needs it
    samples = np.sin(np.arange(48000, dtype=np.float32) * 0.05) * 0.3
    assert [word.text for word in engine.transcribe(samples, 24000)] == ["Hello", "there"]
    engine.transcribe(samples, 24000)
    engine.speech_model = str(scripted_whisper_checkpoint(["Good", "night"], tmp_path / "next.pt"))
    assert [word.text for word in engine.transcribe(samples, 24000)] == ["Good", "night"]
    assert loading == [str(first), engine.speech_model]


def test_the_voices_kept_warm_are_bounded_as_asked_and_their_memory_said():
    from tests.core.dia2.golden import GoldenCase

    case = GoldenCase("clone_s1s2_cfg1_crop")
    request = GenerationRequest(case.json["script"], GenerationParams(seed=2), case.voice_prompts())
    engine = InProcessEngine(threads=1)
    engine.load(str(CHECKPOINT), "cpu", "float32")
    assert engine.memory().warm_voices_bytes == 0
    list(engine.generate(request))
    kept = engine.memory().warm_voices_bytes
    assert kept > 0
    engine.unload()  # dropped with the model
    assert engine.memory().warm_voices_bytes is None

    none_kept = InProcessEngine(threads=1, warm_voices_bytes=0)
    none_kept.load(str(CHECKPOINT), "cpu", "float32")
    list(none_kept.generate(request))
    assert none_kept.memory().warm_voices_bytes == 0
