"""Warm voice states: the backbone's caches after the voice prompts, kept and reused by the next
generation that starts the same way, with every token as a generation without them gives."""

import threading

import numpy as np
import pytest
import torch

from core.dia2.events import GenerationRequest
from core.dia2.frame_loop import FrameLoop
from core.dia2.prefix import build_prefix
from core.dia2.runtime import Dia2Runtime
from core.dia2.sampling import Sampling, SamplingRule
from core.dia2.warm_states import WarmState, WarmStates
from core.params import GenerationParams
from tests.core.dia2.golden import GoldenCase, assert_take_matches_golden

CLONES = ["clone_s1_cfg1_crop", "clone_s1_cfg3_crop", "clone_s1_cfg1_keep", "clone_s1s2_cfg1_crop"]
SCRIPTS = ["[S1] Nice to meet you.", "[S1] Hi.", "[S2] Well <break time=\"0.5s\"/> then. [S1] Yes!",
           "[S1] (laughs) A much longer line of words to say, one after another, until the end."]


@pytest.fixture
def runtime(tiny_runtime) -> Dia2Runtime:
    """The tiny model on a network of its own: its warm states start empty."""
    return Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, tiny_runtime.name)


def render(runtime, case: GoldenCase, script: str | None = None, seed: int = 0, greedy: bool = True, voices=None):
    temperature = 0.0 if greedy else 0.8
    params = GenerationParams.create(cfg_scale=case.settings["cfg_scale"], temperature=temperature,
                                     audio_temperature=temperature, top_k=50, seed=seed,
                                     include_prefix=bool(case.settings["include_prefix"]))
    request = GenerationRequest(script or case.json["script"], params,
                                voices if voices is not None else case.voice_prompts())
    (take,) = runtime.render(request)
    return take


@pytest.mark.parametrize("name", CLONES)
def test_a_warm_start_gives_the_golden_tokens_as_a_cold_one_does(runtime, name):
    case = GoldenCase(name)
    assert_take_matches_golden(render(runtime, case), case)  # cold: computed, then kept
    states = runtime.network.warm_states
    assert (states.misses, states.hits, len(states)) == (1, 0, 1)
    assert_take_matches_golden(render(runtime, case), case)  # warm: copied back
    assert (states.misses, states.hits) == (1, 1)


@pytest.mark.parametrize("script", SCRIPTS)
def test_sampled_takes_of_any_script_are_the_same_warm_and_cold(runtime, tiny_runtime, script):
    case = GoldenCase("clone_s1s2_cfg1_crop")
    render(runtime, case, SCRIPTS[0], seed=3, greedy=False)  # warms the voices up with another script
    warm = render(runtime, case, script, seed=7, greedy=False)
    assert runtime.network.warm_states.hits == 1
    cold_runtime = Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, "cold")
    cold_runtime.network.warm_states.max_bytes = 0  # keeps nothing: every prefill computed
    cold = render(cold_runtime, case, script, seed=7, greedy=False)
    assert len(cold_runtime.network.warm_states) == 0
    np.testing.assert_array_equal(warm.codes, cold.codes)
    assert warm.words == cold.words


def warmup_inputs(runtime, case: GoldenCase, script: str) -> tuple[torch.Tensor, list[int]]:
    prefix = build_prefix(case.voice_prompts(), runtime.tokenizer.encode, runtime.frame_rate)
    greedy = SamplingRule(temperature=0.0, top_k=50)
    loop = FrameLoop(runtime.network, runtime.parse(script), Sampling(1.0, greedy, greedy),
                     runtime.network.generator(0), text_bos=runtime.tokenizer.text_bos, prefix=prefix)
    return loop.warmup_inputs, loop.reusable_steps()


@pytest.mark.parametrize("name", ["clone_s1_cfg1_crop", "clone_s1s2_cfg1_crop"])
def test_the_reused_steps_depend_on_the_voices_alone(runtime, name):
    """The cut never moves with the script, and the inputs before it are the same for every
    script; from it on, the look-ahead stream spells out the script's first word (whose first
    token, the speaker tag's opening, every script shares: they differ a step or two later)."""
    case = GoldenCase(name)
    seen = [warmup_inputs(runtime, case, script) for script in SCRIPTS]
    cuts = {tuple(cut) for _, cut in seen}
    assert len(cuts) == 1
    (cut,) = cuts.pop()
    first = seen[0][0]
    assert 0 < cut < len(first)
    differences = [next(t for t in range(len(first)) if not torch.equal(inputs[t], first[t]))
                   for inputs, _ in seen[1:]]
    assert cut <= min(differences) <= cut + 2


def test_other_voices_or_words_are_not_served_a_kept_state(runtime):
    case = GoldenCase("clone_s1_cfg1_crop")
    render(runtime, case)
    states = runtime.network.warm_states
    (prompt,) = case.voice_prompts()
    other_codes = prompt.codes.clone()
    other_codes[0, 3] = (other_codes[0, 3] + 1) % 2048
    render(runtime, case, voices=(type(prompt)(other_codes, prompt.words),))
    assert (states.misses, states.hits) == (2, 0)
    other_words = [type(word)("Goodbye" if index == 0 else word.text, word.start_s, word.end_s)
                   for index, word in enumerate(prompt.words)]
    render(runtime, case, voices=(type(prompt)(prompt.codes, other_words),))
    assert (states.misses, states.hits, len(states)) == (3, 0, 3)


def test_a_model_in_another_precision_has_warm_states_of_its_own(tiny_runtime):
    from tests.core.dia2.golden import CHECKPOINT

    case = GoldenCase("clone_s1_cfg1_crop")
    first = Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, "first")
    render(first, case)
    other = Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="bfloat16", threads=1)
    render(other, case)
    assert (other.network.warm_states.misses, other.network.warm_states.hits) == (1, 0)
    assert first.network.warm_states.hits == 0


def state(steps: int, value: int, size: int = 10) -> WarmState:
    inputs = torch.full((2, steps, 3), value)
    layer = torch.zeros(2, 1, steps, size)  # 2 * steps * size floats of 4 bytes, keys and values each
    return WarmState(inputs, (layer,), (layer.clone(),))


def test_a_state_counts_all_it_holds_its_inputs_too():
    kept = state(5, 1)
    caches = 2 * (2 * 1 * 5 * 10 * 4)  # keys and values, float32
    assert kept.bytes == caches + 2 * 5 * 3 * kept.inputs.element_size()


def test_the_least_recently_used_state_goes_first_past_the_bound():
    one = state(5, 1)
    states = WarmStates(max_bytes=3 * one.bytes)
    for value in (1, 2, 3):
        states.keep(state(5, value))
    assert states.held_bytes == 3 * one.bytes
    assert states.find(state(5, 1).inputs, [5]) is not None  # 1 is now the most recent
    states.keep(state(5, 4))
    assert states.find(state(5, 2).inputs, [5]) is None  # 2 was the least recent
    assert all(states.find(state(5, value).inputs, [5]) is not None for value in (1, 3, 4))
    states.keep(state(50, 5))  # larger than the bound: not kept, nothing dropped for it
    assert len(states) == 3 and states.held_bytes <= states.max_bytes


def test_the_longest_matching_cut_is_found_and_only_an_equal_one():
    states = WarmStates()
    inputs = torch.arange(2 * 8 * 3).reshape(2, 8, 3)
    states.keep(WarmState(inputs[:, :3].clone(), (torch.zeros(1),), (torch.zeros(1),)))
    states.keep(WarmState(inputs[:, :6].clone(), (torch.ones(1),), (torch.ones(1),)))
    assert states.find(inputs, [3, 6]).steps == 6
    changed = inputs.clone()
    changed[1, 4, 0] += 1  # inside the longer cut only
    assert states.find(changed, [3, 6]).steps == 3
    assert states.find(changed, [6]) is None


def test_a_prefill_that_fails_keeps_no_state_and_the_next_take_is_right(runtime, monkeypatch):
    case = GoldenCase("clone_s1_cfg1_crop")
    transformer = runtime.model.transformer
    forward = transformer.forward

    def failing(*args, **kwargs):
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(transformer, "forward", failing)
    with pytest.raises(Exception, match="out of memory"):
        render(runtime, case)
    assert len(runtime.network.warm_states) == 0
    monkeypatch.setattr(transformer, "forward", forward)
    assert_take_matches_golden(render(runtime, case), case)


def test_a_cancelled_take_leaves_a_state_the_next_take_can_trust(runtime):
    case = GoldenCase("clone_s1_cfg1_crop")
    params = GenerationParams.create(cfg_scale=1.0, temperature=0.0, audio_temperature=0.0, top_k=50, seed=0)
    cancel = threading.Event()
    events = runtime.generate(GenerationRequest(case.json["script"], params, case.voice_prompts()), cancel)
    for event in events:
        if type(event).__name__ == "AudioChunk":
            cancel.set()  # mid-take, after the prefill
    assert runtime.network.warm_states.misses == 1
    assert_take_matches_golden(render(runtime, case), case)
    assert runtime.network.warm_states.hits == 1


def test_the_takes_of_one_request_share_the_voices_state_and_each_is_its_cold_take(runtime, tiny_runtime):
    case = GoldenCase("clone_s1s2_cfg1_crop")
    params = GenerationParams.create(cfg_scale=1.0, temperature=0.8, audio_temperature=0.8, top_k=50, seed=11,
                                     number_results=3)
    request = GenerationRequest(case.json["script"], params, case.voice_prompts())
    takes = runtime.render(request)
    states = runtime.network.warm_states
    assert (states.misses, states.hits) == (1, 2)
    cold_runtime = Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, "cold")
    cold_runtime.network.warm_states.max_bytes = 0
    for take, cold in zip(takes, cold_runtime.render(request)):
        np.testing.assert_array_equal(take.codes, cold.codes)


def test_threads_keeping_and_finding_states_keep_within_the_bound():
    states = WarmStates(max_bytes=4 * state(5, 0).bytes)
    errors = []

    def work(offset):
        try:
            for value in range(offset, offset + 200):
                states.keep(state(5, value % 9))
                found = states.find(state(5, (value + 3) % 9).inputs, [5])
                assert found is None or torch.equal(found.inputs, state(5, (value + 3) % 9).inputs)
                assert states.held_bytes <= states.max_bytes
        except AssertionError as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(states) <= 4
