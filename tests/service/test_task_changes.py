"""A request waiting for a task wakes when the task changes (from any thread), not on a timer."""

import asyncio
import threading

from core.service.task_changes import TaskChanges


def test_a_change_from_another_thread_wakes_the_watcher_of_that_task_only():
    changes = TaskChanges()

    async def watch():
        with changes.watching("a") as a_changed, changes.watching("b") as b_changed:
            threading.Thread(target=changes.touch, args=("a",)).start()
            await asyncio.wait_for(a_changed.wait(), 5)
            return b_changed.is_set()

    assert asyncio.run(watch()) is False
    assert (changes.version("a"), changes.version("b")) == (1, 0)


def test_a_change_before_the_wait_is_not_missed_and_touch_all_wakes_everyone():
    changes = TaskChanges()

    async def watch():
        with changes.watching("a") as a_changed, changes.watching("b") as b_changed:
            changes.touch("a")  # between reading the version and waiting
            await asyncio.wait_for(a_changed.wait(), 5)
            changes.touch_all()
            await asyncio.wait_for(b_changed.wait(), 5)

    asyncio.run(watch())
    changes.touch("a")  # nobody watches any more: nothing to wake
    assert changes.version("a") == 2
