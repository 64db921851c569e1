"""Whose turn on the server's model: a studio waits only for the API task running now and goes
before the tasks after it; a second studio is told at once who has the model."""

import threading

import pytest

from core.dia2.generator import GenerationBusy
from core.service.model_turn import TASK, ModelTurn

NEVER = lambda: False  # noqa: E731
AT_ONCE = lambda: True  # noqa: E731


def _studio_waiting(turn: ModelTurn, name: str) -> tuple[threading.Thread, list]:
    got: list = []
    studio = threading.Thread(target=lambda: got.append(turn.take_for_studio(name, NEVER)), daemon=True)
    studio.start()
    while turn.studios_waiting == 0:
        threading.Event().wait(0.01)
    return studio, got


def test_a_studio_waits_for_the_running_task_then_goes_before_the_next():
    turn = ModelTurn()
    assert turn.take_for_task(NEVER) and turn.holder == TASK
    studio, got = _studio_waiting(turn, "a studio at 10.0.0.5")
    turn.give_back()
    assert not turn.take_for_task(AT_ONCE)  # the runner's next task: the studio waits, so it goes first
    studio.join()
    assert got == [True] and turn.holder == "a studio at 10.0.0.5"
    turn.give_back()
    assert turn.take_for_task(AT_ONCE) and turn.holder == TASK


def test_a_second_studio_hears_at_once_who_generates():
    turn = ModelTurn()
    assert turn.take_for_studio("a studio at 10.0.0.5", NEVER)
    with pytest.raises(GenerationBusy, match="a studio at 10.0.0.5 has been generating on it for 0 s"):
        turn.take_for_studio("a studio at 10.0.0.6", NEVER)
    assert not turn.take_for_task(AT_ONCE)  # the runner waits for the studio as well


def test_a_studio_that_gives_up_waiting_leaves_the_turn_to_the_tasks():
    turn = ModelTurn()
    turn.take_for_task(NEVER)
    assert not turn.take_for_studio("a studio", AT_ONCE)
    assert turn.studios_waiting == 0 and turn.holder == TASK
    turn.give_back()
    assert turn.take_for_task(AT_ONCE)
