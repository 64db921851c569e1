"""The generator beyond the golden cases: sampling with seeds, takes, streaming, cancelling,
the negative prompt and scripts longer than one context — on the tiny checkpoint."""

import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.dia2.generator import AudioChunk, GenerationRequest, Progress, TakeResult, TakeStarted, WordTiming
from core.dia2.model import Dia2Model
from core.dia2.runtime import Dia2Runtime
from core.params import GenerationParams
from tests.core.dia2.golden import GoldenCase

DIALOGUE = "[S1] Hello there. [S2] Hi! (laughs) [S1] How are you today? [S2] Fine, thanks."


def _events(runtime, script=DIALOGUE, cancel=None, voices=(), **params):
    request = GenerationRequest(script, GenerationParams.create(**params), voices)
    return list(runtime.generate(request, cancel))


def _takes(events):
    return [event for event in events if isinstance(event, TakeResult)]


def test_a_seed_gives_the_same_tokens_and_another_seed_other_tokens(tiny_runtime):
    (first,) = _takes(_events(tiny_runtime, seed=123))
    (again,) = _takes(_events(tiny_runtime, seed=123))
    (other,) = _takes(_events(tiny_runtime, seed=124))
    np.testing.assert_array_equal(first.codes, again.codes)
    np.testing.assert_array_equal(first.audio, again.audio)
    assert first.codes.shape != other.codes.shape or not np.array_equal(first.codes, other.codes)
    assert first.seed == 123 and first.params.seed == 123


def test_takes_use_consecutive_seeds_and_a_missing_seed_is_picked_and_reported(tiny_runtime):
    events = _events(tiny_runtime, number_results=3)
    started = [event.seed for event in events if isinstance(event, TakeStarted)]
    takes = _takes(events)
    assert [take.seed for take in takes] == started
    assert started == [started[0], started[0] + 1, started[0] + 2]
    assert [take.take for take in takes] == [0, 1, 2]
    (single,) = _takes(_events(tiny_runtime, seed=started[1]))
    np.testing.assert_array_equal(single.codes, takes[1].codes)


def test_streamed_chunks_arrive_during_generation_and_equal_the_whole_clip_decode(tiny_runtime):
    events = _events(tiny_runtime, seed=5)
    chunks = [i for i, event in enumerate(events) if isinstance(event, AudioChunk)]
    progress = [i for i, event in enumerate(events) if isinstance(event, Progress)]
    assert chunks[0] < progress[-1] // 2, "audio must stream long before the generation ends"
    (take,) = _takes(events)
    streamed = np.concatenate([events[i].samples for i in chunks])
    np.testing.assert_array_equal(streamed, take.audio)
    starts = [events[i].start_s for i in chunks]
    lengths = np.cumsum([0] + [len(events[i].samples) for i in chunks[:-1]]) / take.sample_rate
    np.testing.assert_allclose(starts, lengths, atol=1e-9)
    whole = tiny_runtime.codec.decode(torch.from_numpy(take.codes)).numpy()
    assert np.abs(whole - take.audio).max() < 1e-5
    assert len(take.audio) == take.codes.shape[1] * tiny_runtime.codec.samples_per_frame


def test_word_timings_stream_in_order_and_match_the_take(tiny_runtime):
    events = _events(tiny_runtime, seed=9)
    words = [(event.word, event.start_s) for event in events if isinstance(event, WordTiming)]
    (take,) = _takes(events)
    assert words == take.words
    assert [word for word, _ in words] == DIALOGUE.replace("[S1] ", "").replace("[S2] ", "").split()
    assert all(a[1] < b[1] for a, b in zip(words, words[1:]))


def test_cancel_stops_within_a_frame_and_keeps_what_was_made(tiny_runtime):
    cancel = threading.Event()
    events = []
    for event in tiny_runtime.generate(GenerationRequest(DIALOGUE, GenerationParams.create(seed=3, number_results=2)),
                                       cancel):
        events.append(event)
        if isinstance(event, Progress) and event.frames == 20:
            cancel.set()
    (take,) = _takes(events)
    assert not take.complete
    assert max(event.frames for event in events if isinstance(event, Progress)) == 20
    streamed = np.concatenate([event.samples for event in events if isinstance(event, AudioChunk)])
    np.testing.assert_array_equal(streamed, take.audio)
    assert len(take.audio) > 0 and take.codes.shape[1] * 1920 == len(take.audio)


def test_a_negative_prompt_steers_the_guided_branch_and_is_ignored_without_guidance(tiny_runtime):
    (plain,) = _takes(_events(tiny_runtime, seed=4, cfg_scale=3.0, temperature=0, audio_temperature=0))
    (negative,) = _takes(_events(tiny_runtime, seed=4, cfg_scale=3.0, temperature=0, audio_temperature=0,
                                 negative_prompt="[S1] Mumbling noise static."))
    assert plain.codes.shape != negative.codes.shape or not np.array_equal(plain.codes, negative.codes)
    (unguided,) = _takes(_events(tiny_runtime, seed=4, cfg_scale=1.0, temperature=0, audio_temperature=0))
    (unguided_negative,) = _takes(_events(tiny_runtime, seed=4, cfg_scale=1.0, temperature=0, audio_temperature=0,
                                          negative_prompt="[S1] Mumbling noise static."))
    np.testing.assert_array_equal(unguided.codes, unguided_negative.codes)


def test_include_prefix_keeps_the_voice_prompt_and_its_words(tiny_runtime):
    case = GoldenCase("clone_s1_cfg1_keep")
    params = dict(seed=0, temperature=0, audio_temperature=0, cfg_scale=1.0)
    (kept,) = _takes(_events(tiny_runtime, case.json["script"], voices=case.voice_prompts(), include_prefix=True,
                             **params))
    (cropped,) = _takes(_events(tiny_runtime, case.json["script"], voices=case.voice_prompts(), **params))
    prefix_frames = case.json["prefix"]["aligned_frames"]
    assert kept.codes.shape[1] == cropped.codes.shape[1] + prefix_frames - 1
    assert [w for w, _ in kept.words[:5]] == ["Hello", "world,", "this", "is", "me."]
    assert [w for w, _ in cropped.words] == ["Nice", "to", "meet", "you."]


@pytest.fixture(scope="module")
def short_context_runtime(tiny_runtime):
    """The tiny model with a context of 70 frames, so that a few lines overflow it."""
    config = replace(tiny_runtime.config, max_context_steps=70)
    model = Dia2Model(config)
    model.load_state_dict(tiny_runtime.model.state_dict())
    return Dia2Runtime(model, tiny_runtime.tokenizer, tiny_runtime.codec, "tiny, short context")


LONG_DIALOGUE = " ".join(
    f"[S{1 + i % 2}] Line number {i} is here, with a few more words to say." for i in range(8))


def test_a_script_longer_than_the_context_renders_in_parts_as_one_stream(short_context_runtime):
    events = _events(short_context_runtime, LONG_DIALOGUE, seed=2)
    (take,) = _takes(events)
    assert take.complete
    spoken = [word for word, _ in take.words]
    assert spoken == LONG_DIALOGUE.replace("[S1] ", "").replace("[S2] ", "").split()
    assert all(a[1] < b[1] for a, b in zip(take.words, take.words[1:]))
    # Many contexts' worth of audio, continuous: chunks follow each other without gaps.
    context_s = 70 / short_context_runtime.frame_rate
    assert len(take.audio) / take.sample_rate > 2 * context_s
    chunks = [event for event in events if isinstance(event, AudioChunk)]
    ends = np.cumsum([len(chunk.samples) for chunk in chunks]) / take.sample_rate
    np.testing.assert_allclose([chunk.start_s for chunk in chunks[1:]], ends[:-1], atol=1e-9)
    assert take.codes.shape[1] * 1920 == len(take.audio)


def test_one_turn_longer_than_the_context_is_cut_between_words(short_context_runtime):
    monologue = "[S2] " + " ".join(f"word{i}" for i in range(40))
    (take,) = _takes(_events(short_context_runtime, monologue, seed=8))
    assert [word for word, _ in take.words] == monologue.split()[1:]
