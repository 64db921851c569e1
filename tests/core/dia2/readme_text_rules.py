"""The text-side rules of the parity README (tests/fixtures/dia2_parity/README.md, section 6,
"Text side"), transcribed plainly, one rule per statement, as a second opinion on
``core.dia2.state_machine``. Written from the README alone, not from our state machine: the tests
compare the two step by step, and check this transcription against the reference's own traces.

Ids: pad 3, new word 2 (the README's); an entry is a dict-like (tokens, hold) as in the goldens.
"""

from __future__ import annotations

from dataclasses import dataclass

PAD, NEW_WORD = 3, 2
BUDGET_ON_WORD = 6  # "The padding budget is reset to 6 on every word"
INITIAL_PADDING = 2  # "the initial padding of 2 ... the padding budget starts at 2"
LOOKAHEAD_DISTANCE = 2  # "the tokens of the 2nd next entry that has tokens are appended"


@dataclass(frozen=True)
class RuleStep:
    main: int
    second: int
    popped: int | None  # the index of the entry popped at this step
    ended: bool
    padding_budget_after: int
    forced_padding_after: int


def run_rules(entries: list[tuple[tuple[int, ...], int]], actions: list[int],
              forced: list[bool] | None = None) -> list[RuleStep]:
    """One RuleStep per action. ``entries``: (tokens, hold), a pause has no tokens.
    ``forced[i]``: step i is a warm-up step whose action is imposed (a voice prompt)."""
    forced = forced or [False] * len(actions)
    next_entry = 0
    spelling: list[int] = []  # the current word's tokens still to show on the main stream
    fifo: list[int] = []  # the look-ahead stream's queue
    forced_padding = INITIAL_PADDING
    budget = INITIAL_PADDING
    ended = False
    steps = []
    for action, imposed in zip(actions, forced):
        # Whether a word is taken at this step.
        if imposed:
            # "the actions are forced. A forced new word is still turned into a pad while an
            # earlier word has tokens left"
            take_word = action == 1 and not spelling
        elif spelling or forced_padding > 0:
            take_word = False  # "the next `hold` steps are forced pads, whatever the action says"
        elif budget == 0:
            take_word = True  # "When it is 0, a new word is forced even though the model said 0"
        else:
            take_word = action == 1  # "the model's own action decides"
        if ended:
            take_word = False  # after the end only the flush steps run

        popped = None
        if take_word and next_entry == len(entries):
            # "the first time a new word is due and the queue is empty ... The second stream
            # shows 2 at that step"
            ended = True
            steps.append(RuleStep(PAD, NEW_WORD, None, True, budget, forced_padding))
            continue
        if take_word:
            popped = next_entry
            tokens, hold = entries[next_entry]
            next_entry += 1
        if popped is not None and tokens:
            # "the main stream already carries the word's first token and the second stream
            # carries 2"; "After a word, hold = the number of its tokens"; "reset to 6".
            main, second = tokens[0], NEW_WORD
            spelling = list(tokens[1:])
            forced_padding = hold
            budget = BUDGET_ON_WORD
            # "On each word pop, the tokens of the 2nd next entry that has tokens are appended
            # (breaks are skipped)."
            ahead = [entry_tokens for entry_tokens, _ in entries[next_entry:] if entry_tokens]
            if len(ahead) >= LOOKAHEAD_DISTANCE:
                fifo.extend(ahead[LOOKAHEAD_DISTANCE - 1])
        else:
            # A pad step, and a pause's pop step: "the main stream shows 3 and the second stream
            # pops its FIFO as on any pad step"; "One token is popped on every non-consumption
            # step"; "It drops by 1 on each pad step".
            main = spelling.pop(0) if spelling else PAD
            second = fifo.pop(0) if fifo else PAD
            budget = max(0, budget - 1)
            forced_padding = max(0, forced_padding - 1)
            if popped is not None:
                # "the pop step counts as the first of its `hold` pad frames"; the budget is
                # not reset.
                forced_padding = max(0, hold - 1)
        steps.append(RuleStep(main, second, popped, False, budget, forced_padding))
    return steps
