"""The text state machine against the README's rules (readme_text_rules), which are themselves
checked against the reference's traces: constructed cases, the goldens, and many random scripts.

The property test draws entry lists the parity goldens do not cover (a pause taken while the
look-ahead stream still holds tokens, pauses in a row, a pause first after a speaker change, a
pause last) and action sequences from mostly-pad to mostly-word, so every counter path runs.
"""

import random

import pytest

from core.dia2.script import Entry
from core.dia2.state_machine import TextStateMachine
from tests.core.dia2.golden import CASES, GoldenCase
from tests.core.dia2.readme_text_rules import NEW_WORD, PAD, RuleStep, run_rules

S1, S2 = 384, 385


def _machine(entries: list[Entry]) -> TextStateMachine:
    return TextStateMachine(entries, pad=PAD, new_word=NEW_WORD, lookahead=2)


def _run_machine(entries: list[Entry], actions: list[int], forced: list[bool] | None = None) -> list[RuleStep]:
    machine, index = _machine(entries), {id(entry): i for i, entry in enumerate(entries)}
    steps = []
    for action, imposed in zip(actions, forced or [False] * len(actions)):
        step = machine.step(action, forced=imposed)
        steps.append(RuleStep(step.main, step.second, None if step.consumed is None else index[id(step.consumed)],
                              step.ended, machine.padding_budget, machine.forced_padding))
    return steps


def _as_rules(entries: list[Entry]) -> list[tuple[tuple[int, ...], int]]:
    return [(entry.tokens, entry.hold) for entry in entries]


def _word(*tokens: int) -> Entry:
    return Entry("w", tokens, len(tokens))


def _pause(frames: int) -> Entry:
    return Entry("", (), frames)


def test_a_pause_taken_while_lookahead_tokens_are_queued_keeps_spelling_them_out():
    # "[S1] Hi" is popped at step 2 and queues the tokens of "wonderful" (two words on, the
    # pause skipped); it holds two frames, so the pause comes at step 5 with two tokens queued.
    entries = [_word(S1, 40), _pause(3), _word(50), _word(60, 61, 62, 63), _word(70)]
    actions = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    steps = _run_machine(entries, actions)
    assert [(s.main, s.second) for s in steps[:8]] == [
        (PAD, PAD), (PAD, PAD),
        (S1, NEW_WORD),  # "Hi" popped: "wonderful"'s tokens are queued
        (40, 60),
        (PAD, 61),  # the word's hold: a forced pad; the FIFO moves on
        (PAD, 62),  # the pause's pop step: the FIFO keeps moving (it showed pad before the fix)
        (PAD, 63),
        (PAD, PAD),
    ]
    assert steps[5].popped == 1 and steps[5].forced_padding_after == 2
    assert steps == run_rules(_as_rules(entries), actions)


def test_the_pop_step_of_a_pause_counts_as_its_first_frame_and_keeps_the_budget():
    entries = [_word(S1, 40), _pause(4), _word(50)]
    steps = _run_machine(entries, [1] * 12)
    pause_step = next(s for s in steps if s.popped == 1)
    before = steps[steps.index(pause_step) - 1]
    assert pause_step.forced_padding_after == 3
    assert pause_step.padding_budget_after == before.padding_budget_after - 1


@pytest.mark.parametrize("name", CASES)
def test_the_readme_rules_reproduce_the_reference_traces(name):
    """The transcription is only a second opinion if it agrees with the reference itself."""
    case = GoldenCase(name)
    entries = [(tuple(e["tokens"]), e["hold"]) for e in case.json["entries"]]
    warmup = case.json["prefix"]["warmup"] if case.has_prefix else []
    records = warmup + case.json["steps"]
    actions = [1 if r["forced_token"] == NEW_WORD else 0 for r in warmup] + [r["action"] for r in case.json["steps"]]
    forced = [True] * len(warmup) + [False] * len(case.json["steps"])
    steps = run_rules(entries, actions, forced)
    assert [(s.main, s.second, s.popped is not None, s.padding_budget_after, s.forced_padding_after)
            for s in steps] == [(r["main"], r["second"], r["consumed_entry"], r["padding_budget_after"],
                                 r["forced_padding_after"]) for r in records]
    pops = [r["t"] for r, s in zip(records, steps) if s.popped is not None]
    assert pops == case.json["consumption_steps"]
    ends = [r["t"] for r, s in zip(records, steps) if s.ended]
    assert ends == [case.json["end_step"]]


def _random_script(rng: random.Random) -> list[Entry]:
    """Words of 1–8 tokens (a speaker change puts the tag's id first), pauses of 1–20 frames,
    sometimes in a row, sometimes first after a speaker change, sometimes last."""
    def tokens(count: int) -> tuple[int, ...]:
        return tuple(rng.randrange(17, 384) for _ in range(count))

    entries = [_word(S1, *tokens(rng.randrange(0, 8)))]
    speaker = S1
    for _ in range(rng.randrange(1, 14)):
        if rng.random() < 0.3:
            entries.extend(_pause(rng.randrange(1, 21)) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        elif rng.random() < 0.3:  # the next speaker's first word carries its tag
            speaker = S2 if speaker == S1 else S1
            entries.append(_word(speaker, *tokens(rng.randrange(1, 8))))
        else:
            entries.append(_word(*tokens(rng.randrange(1, 9))))
    if rng.random() < 0.3:
        entries.append(_pause(rng.randrange(1, 21)))
    return entries


@pytest.mark.parametrize("seed", range(40))
def test_the_state_machine_follows_the_readme_rules_on_random_scripts(seed):
    rng = random.Random(seed)
    pauses_with_queued_lookahead = 0
    for _ in range(50):
        entries = _random_script(rng)
        p_word = rng.choice([0.05, 0.2, 0.5, 0.8, 0.95])
        actions = [int(rng.random() < p_word) for _ in range(600)]
        # Sometimes a voice prompt first: its steps' actions are imposed, as in the warm-up.
        warmup = rng.choice([0, 0, rng.randrange(1, 40)])
        forced = [t < warmup for t in range(len(actions))]
        ours = _run_machine(entries, actions, forced)
        rules = run_rules(_as_rules(entries), actions, forced)
        for t, (mine, expected) in enumerate(zip(ours, rules)):
            assert mine == expected, f"step {t} differs for {_as_rules(entries)}, actions {actions[:t + 1]}"
        assert any(step.ended for step in ours), "every script ends within 600 steps"
        pauses_with_queued_lookahead += sum(1 for step in ours if step.popped is not None
                                            and entries[step.popped].is_break and step.second != PAD)
    assert pauses_with_queued_lookahead > 0, "the draw must exercise the case this test exists for"
