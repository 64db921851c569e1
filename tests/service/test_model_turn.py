"""Whose turn on the server's model: a studio or live take waits only for the API task running now
and goes before the tasks after it; a second one is told at once who has the model; one giving
the model back is waited for rather than reported busy."""

import threading

import pytest

from core.dia2.events import GenerationBusy
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
    assert turn.take_for_task(NEVER) and turn.holders == [TASK]
    studio, got = _studio_waiting(turn, "a studio at 10.0.0.5")
    turn.give_back(TASK)
    assert not turn.take_for_task(AT_ONCE)  # the runner's next task: the studio waits, so it goes first
    studio.join()
    assert got == [True] and turn.holders == ["a studio at 10.0.0.5"]
    turn.give_back("a studio at 10.0.0.5")
    assert turn.take_for_task(AT_ONCE) and turn.holders == [TASK]


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
    assert turn.studios_waiting == 0 and turn.holders == [TASK]
    turn.give_back(TASK)
    assert turn.take_for_task(AT_ONCE)

def _take_in_thread(turn: ModelTurn, holder: str) -> tuple[threading.Thread, list]:
    got: list = []
    thread = threading.Thread(target=lambda: got.append(turn.take_for_studio(holder, lambda: False)))
    thread.start()
    return thread, got


def test_a_second_interactive_holder_is_told_busy_and_by_whom():
    turn = ModelTurn()
    assert turn.take_for_studio("a live take from 127.0.0.1:1", lambda: False)
    with pytest.raises(GenerationBusy, match="a live take from 127.0.0.1:1"):
        turn.refuse_if_busy()
    with pytest.raises(GenerationBusy):
        turn.take_for_studio("a studio at 127.0.0.1", lambda: False)


def test_one_giving_the_model_back_is_waited_for_and_the_next_takes_it():
    turn = ModelTurn()
    turn.take_for_studio("first", lambda: False)
    turn.leaving("first")
    turn.refuse_if_busy()  # not busy: it is leaving
    thread, got = _take_in_thread(turn, "second")
    thread.join(0.3)
    assert thread.is_alive() and turn.holders == ["first"]  # waits while the first finishes its frame
    turn.give_back("first")
    thread.join(10)
    assert got == [True] and turn.holders == ["second"]
    with pytest.raises(GenerationBusy):  # the new holder is not leaving
        turn.refuse_if_busy()


def test_leaving_names_its_holder_so_a_late_call_marks_no_one_else():
    turn = ModelTurn()
    turn.take_for_studio("first", lambda: False)
    turn.give_back("first")
    turn.take_for_studio("second", lambda: False)
    turn.leaving("first")  # the first's client went after its take had ended
    with pytest.raises(GenerationBusy):
        turn.refuse_if_busy()



def test_with_two_slots_two_holders_run_and_a_third_studio_waits_for_a_task():
    turn = ModelTurn(capacity=2)
    assert turn.take_for_task(AT_ONCE) and turn.take_for_studio("a studio", AT_ONCE)
    assert turn.waits_for() == TASK and not turn.take_for_task(AT_ONCE)
    studio, got = _studio_waiting(turn, "another studio")
    turn.give_back(TASK)
    studio.join()
    assert got == [True] and sorted(turn.holders) == ["a studio", "another studio"]
    with pytest.raises(GenerationBusy, match="a studio has been generating"):  # studios fill both slots
        turn.refuse_if_busy()
    turn.give_back("a studio")
    assert turn.waits_for() is None and turn.take_for_task(AT_ONCE)
