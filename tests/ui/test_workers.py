"""The generator worker: items reach the GUI thread in order, errors are handed over, cancel works."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from PySide6.QtCore import QCoreApplication, QEvent, QObject

from app.workers import Worker, run_in_background, wait_for_all


def test_items_arrive_on_the_gui_thread_in_order(qtbot):
    made_on = []

    def job(cancel):
        for number in range(5):
            made_on.append(threading.get_ident())
            yield number

    worker = Worker(job)
    received = []
    worker.yielded.connect(lambda item: received.append((item, threading.get_ident())))
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    gui = threading.get_ident()
    assert [item for item, _ in received] == [0, 1, 2, 3, 4]
    assert {thread for _, thread in received} == {gui}
    assert set(made_on) != {gui} and not worker.is_running


def test_an_error_is_handed_to_the_gui_thread_and_finished_still_comes(qtbot):
    def job(cancel):
        yield "first"
        raise ValueError("broken on purpose")

    worker = Worker(job)
    errors = []
    worker.errored.connect(errors.append)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert [str(error) for error in errors] == ["broken on purpose"]


def test_cancel_reaches_the_job(qtbot):
    started = threading.Event()

    def job(cancel):
        started.set()
        while not cancel.wait(0.01):
            pass
        yield "stopped"

    worker = Worker(job)
    items = []
    worker.yielded.connect(items.append)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
        assert started.wait(10)
        worker.cancel()
    assert items == ["stopped"] and worker.cancel_requested


def test_run_in_background_returns_the_result_or_the_error(qtbot):
    results, failures = [], []
    with qtbot.waitSignal(run_in_background(lambda: 6 * 7, results.append, failures.append).finished):
        pass
    with qtbot.waitSignal(run_in_background(lambda: 1 / 0, results.append, failures.append).finished):
        pass
    assert results == [42] and [type(error) for error in failures] == [ZeroDivisionError]


def test_a_gui_thread_that_waits_for_a_cancelled_job_sees_its_thread_end(qtbot):
    """The window closing during a generation cancels it and waits on the GUI thread: the
    thread must end without the GUI thread's help (it hears "done" only after the wait)."""
    started = threading.Event()

    def job(cancel):
        started.set()
        while not cancel.wait(0.01):
            yield None

    worker = Worker(job)
    worker.start()
    assert started.wait(10)
    worker.cancel()
    assert worker.wait(10_000)  # False: it waited the whole 10 s for a thread that never ended
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        pass


def test_the_application_ending_waits_for_every_job_still_running(qtbot):
    """A QThread destroyed while it runs aborts the process: an export would be cut off."""
    ended = threading.Event()

    def slow():
        time.sleep(0.3)
        ended.set()

    run_in_background(slow, lambda _: None, lambda error: None)
    wait_for_all()
    assert ended.is_set()


class Take:
    """Stands for what a job holds and its handlers know: a preview's take (with its document, its
    live take), which holds the worker."""


def test_a_finished_worker_lets_go_of_its_parent_its_handlers_and_what_its_job_held(qtbot):
    """Found by the studio soak (bench/soak_studio.py): a worker made with a parent stayed its child
    once finished, with its job and all the job held, as long as the studio ran (every generation,
    export, preview and check added one); and a handler holding what holds the worker made a cycle
    through Qt that the garbage collector cannot break."""
    session, take, results = QObject(), Take(), []
    held = weakref.ref(take)
    take.worker = Worker(lambda cancel, take=take: iter([42]), "job", session)
    take.worker.yielded.connect(results.append)
    take.worker.finished.connect(lambda take=take: None)
    with qtbot.waitSignal(take.worker.finished, timeout=10_000):
        take.worker.start()
    del take
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert results == [42]
    assert session.children() == [] and held() is None
