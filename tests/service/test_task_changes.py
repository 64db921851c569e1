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


def test_a_task_that_changes_no_more_is_forgotten_and_no_version_is_ever_given_twice():
    changes = TaskChanges()
    changes.touch("a")
    changes.touch("b")
    changes.touch("a")
    assert (changes.version("a"), changes.version("b"), changes.version("new")) == (3, 2, 0)
    seen = {changes.version("a"), changes.version("new")}
    changes.forget("a")
    assert len(changes) == 1
    # Nothing built under a version it had (or a task never changed had) is taken for current.
    assert changes.version("a") not in seen | {1}
    changes.touch("new")
    assert changes.version("new") == 4


def test_a_task_being_watched_is_not_forgotten():
    changes = TaskChanges()
    changes.touch("a")

    async def watch():
        with changes.watching("a"):
            changes.forget("a")
            return changes.version("a")

    assert asyncio.run(watch()) == 1 and len(changes) == 1

