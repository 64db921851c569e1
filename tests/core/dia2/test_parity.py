"""Our runtime against the reference runtime's golden outputs on the tiny random checkpoint.

Token fields must match exactly (the fixture's smallest decision margin is 18x the float32
noise); logits within 1e-4; the waveform within 1e-4 per sample (README of the fixture, §7).
"""

import numpy as np
import pytest
import soundfile
import torch

from core.dia2.frame_loop import FrameLoop
from core.dia2.events import GenerationRequest, TakeResult
from core.dia2.prefix import build_prefix
from core.dia2.sampling import Sampling, SamplingRule
from core.params import GenerationParams
from tests.core.dia2.golden import CASES, FIXTURE, GOLDENS, GoldenCase, assert_take_matches_golden, entries_as_json

GREEDY = SamplingRule(temperature=0.0, top_k=50)


def _loop(runtime, case: GoldenCase, skip_discarded: bool = True) -> FrameLoop:
    entries = runtime.parse(case.json["script"])
    prefix = (build_prefix(case.voice_prompts(), runtime.tokenizer.encode, runtime.frame_rate)
              if case.has_prefix else None)
    sampling = Sampling(case.settings["cfg_scale"], GREEDY, GREEDY)
    return FrameLoop(runtime.network, entries, sampling, runtime.network.generator(0),
                     text_bos=runtime.tokenizer.text_bos, prefix=prefix, skip_discarded=skip_discarded)


def _render(runtime, case: GoldenCase, voices=None) -> TakeResult:
    params = GenerationParams.create(cfg_scale=case.settings["cfg_scale"], temperature=0.0,
                                     audio_temperature=0.0, top_k=50, seed=0,
                                     include_prefix=bool(case.settings["include_prefix"]))
    request = GenerationRequest(case.json["script"], params, voices if voices is not None else case.voice_prompts())
    (take,) = runtime.render(request)
    return take


@pytest.mark.parametrize("name", CASES)
def test_script_entries_match(tiny_runtime, name):
    case = GoldenCase(name)
    entries = tiny_runtime.parse(case.json["script"])
    expected = case.json["entries"][len(case.json["prefix"]["entries"]):] if case.has_prefix else case.json["entries"]
    assert entries_as_json(entries) == expected


@pytest.mark.parametrize("name", [c for c in CASES if c.startswith("clone")])
def test_prefix_alignment_and_warmup_match(tiny_runtime, name):
    case = GoldenCase(name)
    prefix = build_prefix(case.voice_prompts(), tiny_runtime.tokenizer.encode, tiny_runtime.frame_rate)
    assert entries_as_json(prefix.entries) == case.json["prefix"]["entries"]
    assert prefix.new_word_steps == case.json["prefix"]["new_word_steps"]
    assert prefix.frames == case.json["prefix"]["aligned_frames"]
    loop = _loop(tiny_runtime, case)
    np.testing.assert_array_equal(loop.warmup_inputs.numpy(), case.arrays["warmup_inputs"])
    warmup_pops = [step for _, step in loop.state.consumed]
    assert warmup_pops == case.json["consumption_steps"][: len(prefix.entries)]


def _assert_grid_matches(loop: FrameLoop, golden: np.ndarray, skip_discarded: bool) -> None:
    """The grid equals the golden one, but for the columns the delays throw away (never read,
    never output): with the skip, the steps did not make them and they keep the pad. (With a
    voice prompt, generation starts past the delays and skips nothing.)"""
    grid = loop.grid[:, : loop.grid_columns].numpy()
    delays = np.array(loop.config.data.delay_pattern)[:, None]
    columns = np.arange(grid.shape[1])[None, :]
    discarded = (columns < delays) & (columns > loop.state.start_step) & skip_discarded
    np.testing.assert_array_equal(np.where(discarded, golden, grid), golden)
    assert (grid[discarded] == loop.config.data.audio_pad).all()
    assert discarded.sum() == (skip_discarded and loop.state.start_step == 0) * (delays - 1).sum()


@pytest.mark.parametrize("name", CASES)
def test_every_step_matches(either_runtime, name):
    _check_every_step(either_runtime, GoldenCase(name), skip_discarded=True)


@pytest.mark.parametrize("name", CASES)
def test_without_the_skip_every_step_and_the_whole_grid_match(tiny_runtime, name):
    _check_every_step(tiny_runtime, GoldenCase(name), skip_discarded=False)


def _check_every_step(runtime, case: GoldenCase, skip_discarded: bool) -> None:
    loop = _loop(runtime, case, skip_discarded)
    trace = []
    while not loop.finished:
        record = loop.step()
        trace.append({"t": record.t, "action": record.action, "main": record.text.main,
                      "second": record.text.second, "consumed_entry": record.text.consumed is not None,
                      "padding_budget_after": loop.machine.padding_budget,
                      "forced_padding_after": loop.machine.forced_padding})
    assert trace == case.json["steps"]
    np.testing.assert_array_equal(np.stack([r.inputs.numpy() for r in loop.records]), case.arrays["step_inputs"])
    _assert_grid_matches(loop, case.arrays["grid"], skip_discarded)
    assert loop.state.start_step == case.json["start_step"]
    assert loop.state.end_step == case.json["end_step"]
    assert loop.state.last_step == case.json["last_step"]
    assert [step for _, step in loop.state.consumed] == case.json["consumption_steps"]


@pytest.mark.parametrize("name", CASES)
def test_codes_timestamps_and_waveform_match(either_runtime, name):
    case = GoldenCase(name)
    assert_take_matches_golden(_render(either_runtime, case), case)


@pytest.mark.parametrize("name", ["dialogue_cfg1", "dialogue_cfg3"])
def test_logits_match(either_runtime, name):
    with np.load(GOLDENS / f"{name}.logits.npz") as data:
        golden = {key: data[key] for key in data.files}
    grid = GoldenCase(name).arrays["grid"]
    network = either_runtime.network
    network.reset()
    stages = list(golden["dep_stages"])
    for i, t in enumerate(golden["step_index"]):
        tokens = torch.from_numpy(golden["step_inputs"][i].astype(np.int64))
        hidden, action, cb0 = network.backbone(tokens, int(t))
        np.testing.assert_allclose(hidden.numpy(), golden["hidden"][i], atol=1e-4)
        np.testing.assert_allclose(action.numpy(), golden["action"][i], atol=1e-4)
        np.testing.assert_allclose(cb0.numpy(), golden["cb0"][i], atol=1e-4)
        for stage in range(network.stages):
            logits = network.stage(stage, torch.tensor([int(grid[stage, t + 1])]))
            if stage in stages:
                np.testing.assert_allclose(logits.numpy(), golden["dep"][i, stages.index(stage)], atol=1e-4)


@pytest.mark.parametrize("name", ["clone_s1_cfg1_crop", "clone_s1s2_cfg1_crop"])
def test_voice_files_encode_to_the_golden_prefix_and_render_the_same(tiny_runtime, name):
    """The whole voice path from the WAV files: read, Mimi-encode, align, generate."""
    case = GoldenCase(name)
    codes = []
    for file in case.prefix_files():
        samples, rate = soundfile.read(FIXTURE / file, dtype="float32")
        assert rate == tiny_runtime.sample_rate
        codes.append(tiny_runtime.encode_voice(samples))
    codes = torch.cat(codes, dim=1)
    np.testing.assert_array_equal(codes.numpy(), case.arrays["prefix_codes"])
    take = _render(tiny_runtime, case, voices=case.voice_prompts(codes))
    np.testing.assert_array_equal(take.codes, case.arrays["codes"])
