"""The generator beyond the golden cases: sampling with seeds, takes, streaming, cancelling,
the negative prompt, scripts longer than one context and the lines before a selection as
context — on the tiny checkpoint."""

import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.dia2 import generator as generator_module
from core.dia2.events import (AudioChunk, GenerationRequest, InvalidContext, Progress, TakeResult,
                              TakeStarted, WordTiming)
from core.dia2.prefix import SpokenContext
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


@pytest.fixture
def decoding_four_frames_at_a_time(tiny_runtime):
    """The tiny runtime with the chunking a GPU uses."""
    tiny_runtime.chunk_frames = 4
    yield tiny_runtime
    tiny_runtime.chunk_frames = 1


def test_frames_decoded_four_at_a_time_after_the_first_give_the_same_audio(tiny_runtime,
                                                                            decoding_four_frames_at_a_time):
    (one_by_one,) = _takes(_events(tiny_runtime, seed=5, cfg_scale=1.0))
    events = _events(decoding_four_frames_at_a_time, seed=5, cfg_scale=1.0)
    (take,) = _takes(events)
    frames = [len(event.samples) // tiny_runtime.codec.samples_per_frame for event in events
              if isinstance(event, AudioChunk)]
    assert frames[0] == 1 and set(frames[1:-1]) == {4} and 1 <= frames[-1] <= 4
    np.testing.assert_array_equal(take.codes, one_by_one.codes)
    np.testing.assert_allclose(take.audio, one_by_one.audio, atol=1e-6)

    cancel = threading.Event()
    events = []
    for event in decoding_four_frames_at_a_time.generate(
            GenerationRequest(DIALOGUE, GenerationParams.create(seed=5, cfg_scale=1.0)), cancel):
        events.append(event)
        if isinstance(event, Progress) and event.frames == 30:
            cancel.set()
    (cut,) = _takes(events)
    # Cancelled between chunks: the frames made but not yet decoded are decoded and kept.
    assert not cut.complete and cut.codes.shape[1] == 30 + 1 - max(tiny_runtime.config.data.delay_pattern)
    np.testing.assert_array_equal(cut.codes, one_by_one.codes[:, : cut.codes.shape[1]])


def test_a_request_for_the_takes_only_gives_the_same_takes_without_the_stream(tiny_runtime):
    params = GenerationParams.create(seed=5, number_results=2)
    whole = list(tiny_runtime.generate(GenerationRequest(DIALOGUE, params)))
    only = list(tiny_runtime.generate(GenerationRequest(DIALOGUE, params, takes_only=True)))
    assert [type(event) for event in only] == [TakeStarted, TakeResult] * 2
    assert [event.seed for event in only] == [5, 5, 6, 6]
    for quiet, streamed in zip(_takes(only), _takes(whole)):
        np.testing.assert_array_equal(quiet.audio, streamed.audio)
        assert quiet.words == streamed.words and quiet.complete


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


# ---- the lines before a selection as context ------------------------------------------------

CONTEXT_SCRIPT = "[S1] Hello there. [S2] Hi! (laughs)"
NEW_LINES = "[S1] How are you today?"


@pytest.fixture(scope="module")
def spoken_context(tiny_runtime) -> SpokenContext:
    """The lines before, as their kept take has them: its codes, script and word starts."""
    (before,) = _takes(_events(tiny_runtime, CONTEXT_SCRIPT, seed=1))
    return SpokenContext(torch.from_numpy(before.codes), CONTEXT_SCRIPT, tuple(start for _, start in before.words))


@pytest.fixture
def recorded_loops(monkeypatch) -> list:
    """The frame loops a generation runs (the real ones) with the prefix each was given."""
    recorded = []

    class RecordingLoop(generator_module.FrameLoop):
        def __init__(self, *args, prefix=None, **kwargs):
            super().__init__(*args, prefix=prefix, **kwargs)
            recorded.append((self, prefix))

    monkeypatch.setattr(generator_module, "FrameLoop", RecordingLoop)
    return recorded


def _render_with_context(runtime, context, script=NEW_LINES, voices=(), **params):
    request = GenerationRequest(script, GenerationParams.create(**params), voices, context)
    return list(runtime.generate(request))


def test_the_lines_before_are_replayed_as_prefix_but_are_not_in_the_take(tiny_runtime, spoken_context,
                                                                         recorded_loops):
    events = _render_with_context(tiny_runtime, spoken_context, seed=2)
    (take,) = _takes(events)
    ((loop, prefix),) = recorded_loops
    # The prefix is the context from its first word on, with its words on their frames.
    first_word_frame = round(spoken_context.word_starts[0] * tiny_runtime.frame_rate)
    assert torch.equal(prefix.codes, spoken_context.codes[:, first_word_frame:])
    assert [entry.text for entry in prefix.entries] == ["Hello", "there.", "Hi!", "(laughs)"]
    assert loop.warmup_inputs.shape[0] == prefix.frames
    # The take holds the new frames only: every step but the delay's makes one frame.
    steps = max(event.frames for event in events if isinstance(event, Progress))
    assert take.codes.shape[1] == steps - tiny_runtime.config.data.max_delay
    assert len(take.audio) == take.codes.shape[1] * tiny_runtime.codec.samples_per_frame
    assert [word for word, _ in take.words] == ["How", "are", "you", "today?"]
    assert 0 <= take.words[0][1] < 0.5 and all(a[1] < b[1] for a, b in zip(take.words, take.words[1:]))
    assert take.complete and not take.notices


def test_the_lines_before_change_what_the_same_seed_makes(tiny_runtime, spoken_context):
    (alone,) = _takes(_events(tiny_runtime, NEW_LINES, seed=2))
    (after,) = _takes(_render_with_context(tiny_runtime, spoken_context, seed=2))
    assert alone.codes.shape != after.codes.shape or not np.array_equal(alone.codes, after.codes)
    (again,) = _takes(_render_with_context(tiny_runtime, spoken_context, seed=2))
    np.testing.assert_array_equal(after.codes, again.codes)


def test_lines_before_longer_than_the_room_left_by_the_voices_are_cut_with_a_notice(
        short_context_runtime, spoken_context, recorded_loops):
    # 70 frames of context: voices and lines before get 35, the voice of S1 takes 25 of them.
    voices = GoldenCase("clone_s1_cfg1_keep").voice_prompts()
    (take,) = _takes(_render_with_context(short_context_runtime, spoken_context, "[S2] Fine, thanks.",
                                          voices, seed=3))
    (_, prefix), *_ = recorded_loops
    voice_frames = sum(voice.frames for voice in voices)
    assert voice_frames == 25 and spoken_context.frames > 10
    assert voice_frames < prefix.frames <= voice_frames + 10
    torch.testing.assert_close(prefix.codes[:, voice_frames:],
                               spoken_context.codes[:, spoken_context.frames - (prefix.frames - voice_frames):])
    assert [notice for notice in take.notices if "last 1 s of the 2 s of lines before" in notice]
    assert [word for word, _ in take.words] == ["Fine,", "thanks."]


def test_with_lines_before_the_voice_prompts_are_not_kept_and_a_notice_says_so(tiny_runtime, spoken_context):
    voices = GoldenCase("clone_s1_cfg1_keep").voice_prompts()
    (take,) = _takes(_render_with_context(tiny_runtime, spoken_context, voices=voices, seed=2, include_prefix=True))
    assert [word for word, _ in take.words] == ["How", "are", "you", "today?"]
    assert any("voice references are not kept" in notice for notice in take.notices)


def test_lines_before_whose_words_do_not_match_their_times_are_refused(tiny_runtime, spoken_context):
    wrong = replace(spoken_context, word_starts=spoken_context.word_starts[:-1])
    with pytest.raises(InvalidContext, match="4 words but 3 word times"):
        _render_with_context(tiny_runtime, wrong, seed=2)
