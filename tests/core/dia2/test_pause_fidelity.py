"""Greedy generation of scripts with pauses anywhere, through the real runtime on the tiny
checkpoint: every step's text tokens are what the README's rules give for the model's own
actions, they are what the backbone reads at the next step, and the rendered take (the path
`dia-studio render` takes) carries exactly the codes of that run.

The goldens hold only pauses taken with an empty look-ahead queue; these scripts take them with
tokens still queued, in a row, first after a speaker change and last.
"""

import numpy as np
import pytest
import torch

from core.dia2.frame_loop import FrameLoop
from core.dia2.events import GenerationRequest
from core.dia2.prefix import build_prefix
from core.dia2.sampling import Sampling, SamplingRule
from core.params import GenerationParams
from tests.core.dia2.golden import GoldenCase
from tests.core.dia2.readme_text_rules import PAD, run_rules

GREEDY = SamplingRule(temperature=0.0, top_k=50)
SCRIPTS = [
    '[S1] Hi <break time="0.3s"/> wonderful extraordinary people.',
    '[S1] Okay then. [S2] <break time="0.4s"/> Sure thing, absolutely.',
    '[S1] One <break time="0.2s"/> <break time="0.5s"/> two three four.',
    '[S2] The end is here. <break time="1s"/>',
    'Well <break time="0.1s"/> I <break time="0.3s"/> think (laughs) <break time="0.2s"/> so, yes.',
]
VOICED = GoldenCase("clone_s1s2_cfg1_crop")  # its voice prompts, for the warm-up path


def run_greedy(runtime, script: str, cfg_scale: float, voiced: bool) -> tuple[FrameLoop, list]:
    voices = VOICED.voice_prompts() if voiced else ()
    prefix = build_prefix(voices, runtime.tokenizer.encode, runtime.frame_rate) if voiced else None
    entries = runtime.parse(script)
    loop = FrameLoop(runtime.network, entries, Sampling(cfg_scale, GREEDY, GREEDY), torch.Generator().manual_seed(0),
                     text_bos=runtime.tokenizer.text_bos, prefix=prefix)
    while not loop.finished:
        loop.step()
    return loop, (prefix.entries if prefix else []) + entries


@pytest.fixture(scope="module")
def runs(tiny_runtime):
    return {(script, cfg, voiced): run_greedy(tiny_runtime, script, cfg, voiced)
            for script in SCRIPTS for cfg in (1.0, 3.0) for voiced in (False, True)}


@pytest.mark.parametrize("voiced", [False, True], ids=["no voice", "two voices"])
@pytest.mark.parametrize("cfg_scale", [1.0, 3.0], ids=["cfg1", "cfg3"])
@pytest.mark.parametrize("script", SCRIPTS, ids=[f"script{i}" for i in range(len(SCRIPTS))])
def test_each_step_follows_the_readme_rules(runs, tiny_runtime, script, cfg_scale, voiced):
    loop, entries = runs[(script, cfg_scale, voiced)]
    rules_entries = [(entry.tokens, entry.hold) for entry in entries]
    if voiced:
        prefix = build_prefix(VOICED.voice_prompts(), tiny_runtime.tokenizer.encode, tiny_runtime.frame_rate)
        warmup = [int(t in prefix.new_word_steps) for t in range(prefix.frames)]
    else:
        warmup = []
    actions = warmup + [record.action for record in loop.records]
    forced = [True] * len(warmup) + [False] * len(loop.records)
    expected = run_rules(rules_entries, actions, forced)[len(warmup):]
    assert [(r.text.main, r.text.second) for r in loop.records] == [(s.main, s.second) for s in expected]
    assert [r.t for r in loop.records if r.text.consumed is not None] == [
        r.t for r, s in zip(loop.records, expected) if s.popped is not None]
    # What the machine emits at step t is what row 0 of the backbone reads at step t + 1.
    for record, following in zip(loop.records, loop.records[1:]):
        assert following.inputs[0, :2].tolist() == [record.text.main, record.text.second]
    assert loop.state.end_step is not None


def test_the_scripts_take_pauses_with_lookahead_tokens_queued(runs):
    """The case the goldens miss happens in these runs, so the test above would catch it."""
    queued = [(script, r.t) for (script, _, _), (loop, _) in runs.items() for r in loop.records
              if r.text.consumed is not None and r.text.consumed.is_break and r.text.second != PAD]
    assert len({script for script, _ in queued}) >= 2


@pytest.mark.parametrize("script", SCRIPTS[:3], ids=["script0", "script1", "script2"])
def test_a_greedy_render_carries_the_codes_of_the_checked_run(runs, tiny_runtime, script):
    loop, _ = runs[(script, 3.0, False)]
    params = GenerationParams.create(cfg_scale=3.0, temperature=0.0, audio_temperature=0.0, top_k=50, seed=0)
    (take,) = tiny_runtime.render(GenerationRequest(script, params))
    np.testing.assert_array_equal(take.codes, loop.codes(0, loop.ready_frames()).numpy())
