"""ModelTurn: a studio or live take goes after the running task, another one is told busy, and one
giving the model back is waited for rather than reported busy."""

import threading

import pytest

from core.dia2.generator import GenerationBusy
from core.service.model_turn import TASK, ModelTurn


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
    assert thread.is_alive() and turn.holder == "first"  # waits while the first finishes its frame
    turn.give_back()
    thread.join(10)
    assert got == [True] and turn.holder == "second"
    with pytest.raises(GenerationBusy):  # the new holder is not leaving
        turn.refuse_if_busy()


def test_leaving_names_its_holder_so_a_late_call_marks_no_one_else():
    turn = ModelTurn()
    turn.take_for_studio("first", lambda: False)
    turn.give_back()
    turn.take_for_studio("second", lambda: False)
    turn.leaving("first")  # the first's client went after its take had ended
    with pytest.raises(GenerationBusy):
        turn.refuse_if_busy()


def test_an_interactive_holder_waits_for_the_running_task_and_goes_before_the_queued_ones():
    turn = ModelTurn()
    assert turn.take_for_task(lambda: False) and turn.holder == TASK
    thread, got = _take_in_thread(turn, "a live take")
    thread.join(0.3)
    assert thread.is_alive()
    turn.give_back()
    thread.join(10)
    assert got == [True] and turn.holder == "a live take"
    assert not turn.take_for_task(lambda: True)  # a task asking now waits (and here gives up)
