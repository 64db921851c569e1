"""Live takes on the tiny checkpoint: text pushed in any pieces, at any moments, gives the take
the whole script gives (the goldens, greedy; the offline take with the same seed, sampled);
waiting for text, cancelling, the model held and freed, takes longer than the context."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from core.dia2 import generator
from core.dia2.events import (AudioChunk, GenerationBusy, GenerationRequest, Progress, Stalled, TakeResult,
                              TakeStarted, WordTiming)
from core.dia2.incremental_script import TextAfterEnd
from core.dia2.script import UnknownSpeakerTag
from core.dia2.state_machine import INITIAL_PADDING
from core.params import GenerationParams
from tests.core.dia2.golden import CASES, GoldenCase, assert_take_matches_golden
from tests.live_feeding import fed_from_a_thread, result_of

DIALOGUE = "[S1] Hello there. [S2] Hi! (laughs) [S1] How are you today? [S2] Fine, thanks."
LONG_DIALOGUE = " ".join(f"[S{1 + i % 2}] Line number {i} is here, with a few more words to say." for i in range(3))


@pytest.fixture(autouse=True)
def quick_stall_reports(monkeypatch):
    """Reports of a wait for text every 50 ms: the feeders below push text when told of a wait."""
    monkeypatch.setattr(generator, "STALL_REPORT_S", 0.05)


def _greedy(case: GoldenCase) -> GenerationParams:
    return GenerationParams.create(cfg_scale=case.settings["cfg_scale"], temperature=0.0, audio_temperature=0.0,
                                   top_k=50, seed=0, include_prefix=bool(case.settings["include_prefix"]))


def _pieces(text: str, rng: random.Random, longest: int = 6) -> list[str]:
    """``text`` cut at random places into pieces of 1 to ``longest`` characters."""
    pieces, at = [], 0
    while at < len(text):
        size = rng.randint(1, longest)
        pieces.append(text[at:at + size])
        at += size
    return pieces


def _fed_on_every_stall(runtime, take, pieces: list[str]) -> list:
    """Iterate the take, pushing text only when it waits for text, and then only up to the next
    piece that completes a word or a pause (the take can do nothing with less): every frame that
    can run on the text so far has run before more arrives."""
    events, queue = [], list(pieces)
    words = runtime.incremental_script()  # tells which piece completes an entry
    for event in take.events():
        events.append(event)
        if isinstance(event, Stalled):
            while queue:
                take.push_text(queue[0])
                if words.feed(queue.pop(0)):
                    break
            else:
                if not take.text_ended:
                    take.end_text()
    return events


def _fed_from_a_thread(take, pieces: list[str], rng: random.Random) -> list:
    """Another thread pushes the pieces at random moments while this one iterates."""
    return fed_from_a_thread(take, pieces, [rng.choice([0.0, 0.0, 0.001, 0.004]) for _ in pieces])


def _offline(runtime, script, params, voices=()) -> TakeResult:
    (take,) = runtime.render(GenerationRequest(script, params, voices))
    return take


@pytest.mark.parametrize("name", CASES)
def test_a_golden_script_pushed_in_pieces_whenever_the_take_waits_gives_the_golden(tiny_runtime, name):
    case = GoldenCase(name)
    rng = random.Random(name)
    script = case.json["script"]
    take = tiny_runtime.open_live_take(_greedy(case), case.voice_prompts())
    events = _fed_on_every_stall(tiny_runtime, take, _pieces(script, rng))
    assert_take_matches_golden(result_of(events), case)
    # It waited for text before its first word and again after words were spoken.
    waits = [i for i, event in enumerate(events) if isinstance(event, Stalled) and event.waiting_s == 0]
    first_word = next(i for i, event in enumerate(events) if isinstance(event, WordTiming))
    assert waits[0] < first_word < waits[-1]


@pytest.mark.parametrize("name", ["dialogue_cfg3", "single_cfg1", "break_cfg1", "clone_s1s2_cfg1_crop"])
def test_a_golden_script_pushed_character_by_character_from_another_thread_gives_the_golden(tiny_runtime, name):
    case = GoldenCase(name)
    rng = random.Random(name)
    take = tiny_runtime.open_live_take(_greedy(case), case.voice_prompts())
    assert_take_matches_golden(result_of(_fed_from_a_thread(take, list(case.json["script"]), rng)), case)


def test_model_deltas_at_random_moments_from_another_thread_give_the_golden(tiny_runtime):
    case = GoldenCase("dialogue_cfg1")
    deltas = [" " + word if i else word for i, word in enumerate(case.json["script"].split(" "))]
    take = tiny_runtime.open_live_take(_greedy(case))
    assert_take_matches_golden(result_of(_fed_from_a_thread(take, deltas, random.Random(3))), case)


@pytest.mark.parametrize("voiced", [False, True], ids=["no-voice", "voice"])
def test_a_sampled_live_take_equals_the_offline_take_with_its_seed(tiny_runtime, voiced):
    voices = GoldenCase("clone_s1_cfg1_crop").voice_prompts() if voiced else ()
    params = GenerationParams.create(seed=11, cfg_scale=2.0)
    offline = _offline(tiny_runtime, DIALOGUE, params, voices)
    take = tiny_runtime.open_live_take(params, voices)
    live = result_of(_fed_on_every_stall(tiny_runtime, take, _pieces(DIALOGUE, random.Random(5))))
    np.testing.assert_array_equal(live.codes, offline.codes)
    np.testing.assert_array_equal(live.audio, offline.audio)
    assert live.words == offline.words and live.seed == offline.seed == 11


@pytest.fixture
def without_the_skip(tiny_runtime):
    tiny_runtime.skip_discarded_work = False
    yield tiny_runtime
    tiny_runtime.skip_discarded_work = True


def test_skipping_the_discarded_first_frames_work_keeps_every_sampled_token(tiny_runtime):
    params = GenerationParams.create(seed=21, cfg_scale=3.0, negative_prompt="[S1] static hiss.")
    skipped = _offline(tiny_runtime, DIALOGUE, params)
    tiny_runtime.skip_discarded_work = False
    try:
        full = _offline(tiny_runtime, DIALOGUE, params)
    finally:
        tiny_runtime.skip_discarded_work = True
    np.testing.assert_array_equal(skipped.codes, full.codes)
    np.testing.assert_array_equal(skipped.audio, full.audio)
    assert skipped.words == full.words


def test_the_frames_that_need_no_text_run_before_any_text_arrives(tiny_runtime):
    take = tiny_runtime.open_live_take(GenerationParams.create(seed=1))
    events = take.events()
    before = []
    for event in events:
        before.append(event)
        if isinstance(event, Stalled):
            break
    assert isinstance(before[0], TakeStarted) and before[0].seed == 1
    # The initial padding frames run; the frame after them takes the first word and waits for it.
    assert [event.frames for event in before if isinstance(event, Progress)] == list(range(1, INITIAL_PADDING + 1))
    assert before[-1] == Stalled(0, 0.0)
    take.cancel()
    rest = list(events)
    assert not result_of(rest).complete


def test_text_after_a_long_pause_continues_the_take_as_if_it_had_all_been_there(tiny_runtime):
    case = GoldenCase("dialogue_cfg1")
    script = case.json["script"]
    take = tiny_runtime.open_live_take(_greedy(case))
    take.push_text(script[:16])  # "[S1] Hello there": "there" may still grow
    events, waits = [], []
    for event in take.events():
        events.append(event)
        if isinstance(event, Stalled):
            waits.append(event.waiting_s)
            if event.waiting_s >= 1.0 and not take.text_ended:
                take.push_text(script[16:])
                take.end_text()
    assert waits[0] == 0.0 and waits == sorted(waits) and len(waits) > 10
    # All that waiting came before the first word: "Hello" waits for the two words after it.
    last_wait = max(i for i, event in enumerate(events) if isinstance(event, Stalled))
    assert last_wait < next(i for i, event in enumerate(events) if isinstance(event, WordTiming))
    assert_take_matches_golden(result_of(events), case)


def test_cancel_while_waiting_for_text_ends_the_take_with_what_was_made_and_frees_the_model(tiny_runtime):
    take = tiny_runtime.open_live_take(GenerationParams.create(seed=4))
    take.push_text("[S1] Hello there, how are you doing ")
    events = []
    cancelling = threading.Timer(0.2, take.cancel)

    for event in take.events():
        events.append(event)
        if isinstance(event, Stalled) and any(isinstance(e, AudioChunk) for e in events):
            if not cancelling.is_alive() and not take._feed.cancel.is_set():
                cancelling.start()  # from another thread, while this one waits
    result = result_of(events)
    assert not result.complete
    streamed = np.concatenate([event.samples for event in events if isinstance(event, AudioChunk)])
    np.testing.assert_array_equal(streamed, result.audio)
    assert [word for word, _ in result.words] == ["Hello", "there,", "how", "are"]
    take.push_text("ignored once cancelled ")
    # The model is free again.
    (again,) = tiny_runtime.render(GenerationRequest("[S1] Hi.", GenerationParams.create(seed=1)))
    assert again.complete


def test_cancel_mid_stream_keeps_what_was_made(tiny_runtime):
    params = GenerationParams.create(seed=6)
    whole = _offline(tiny_runtime, DIALOGUE, params)
    take = tiny_runtime.open_live_take(params)
    take.push_text(DIALOGUE)
    take.end_text()
    events = []
    for event in take.events():
        events.append(event)
        if isinstance(event, Progress) and event.frames == 20:
            take.cancel()
    result = result_of(events)
    assert not result.complete and max(e.frames for e in events if isinstance(e, Progress)) == 20
    np.testing.assert_array_equal(result.codes, whole.codes[:, : result.codes.shape[1]])


def test_one_live_take_holds_the_model_until_it_ends_or_is_closed(tiny_runtime):
    params = GenerationParams.create(seed=2)
    take = tiny_runtime.open_live_take(params)
    with pytest.raises(GenerationBusy):
        tiny_runtime.open_live_take(params)
    with pytest.raises(GenerationBusy):
        list(tiny_runtime.generate(GenerationRequest("[S1] Hi.", params)))
    take.close()  # never iterated: the model is freed at once
    with tiny_runtime.open_live_take(params) as second:
        second.push_text("[S1] Hi.")
        second.end_text()
        assert result_of(list(second.events())).complete
        with pytest.raises(RuntimeError, match="once"):
            second.events()
    third = tiny_runtime.open_live_take(params)
    events = third.events()
    next(events)
    events.close()  # abandoned mid-take: cancelled, and the model is free
    tiny_runtime.open_live_take(params).close()


def test_refused_text_raises_in_the_pushing_thread_and_the_take_goes_on(tiny_runtime):
    case = GoldenCase("dialogue_cfg1")
    take = tiny_runtime.open_live_take(_greedy(case))
    take.push_text("[S1] Hello there. ")
    with pytest.raises(UnknownSpeakerTag, match=r"\[S3\]"):
        take.push_text("[S3] Hi! ")
    take.push_text("[S2] Hi! (laughs)")
    take.end_text()
    with pytest.raises(TextAfterEnd):
        take.push_text("more")
    assert_take_matches_golden(result_of(list(take.events())), case)


def test_a_live_take_longer_than_the_context_rolls_over_and_equals_the_offline_take(short_context_runtime):
    params = GenerationParams.create(seed=2)
    offline = _offline(short_context_runtime, LONG_DIALOGUE, params)
    take = short_context_runtime.open_live_take(params)
    events = _fed_on_every_stall(short_context_runtime, take, _pieces(LONG_DIALOGUE, random.Random(8), longest=12))
    live = result_of(events)
    assert live.complete and [word for word, _ in live.words] == [w for w in LONG_DIALOGUE.split() if w[0] != "["]
    assert live.codes.shape[1] > 2 * 70  # several contexts' worth
    np.testing.assert_array_equal(live.codes, offline.codes)
    assert live.words == offline.words
