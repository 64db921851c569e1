"""Background work for the window: a generator runs on a QThread, each item it yields becomes a
signal on the GUI thread (napari's generator worker), and cancelling sets a threading.Event the
generator checks between steps.

The public signals are emitted by a ``Worker`` that lives on the GUI thread: a private runner on
the worker thread hands items over through queued connections. So any callable connected to a
``Worker`` signal — a lambda included — runs on the GUI thread, and only there are widgets touched.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, Slot

# A job gets the cancel event and yields its results (events, progress, a final value).
Job = Callable[[threading.Event], Iterator[Any]]

# Running workers keep themselves alive here, so a caller may drop its reference to one.
_running: set["Worker"] = set()


class _Runner(QObject):
    """Runs the job on the worker thread; knows nothing of the GUI."""

    item = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, job: Job, cancel: threading.Event):
        super().__init__()
        self._job = job
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            for item in self._job(self._cancel):
                self.item.emit(item)
        except Exception as error:  # handed to the GUI thread, which shows it; never lost
            self.failed.emit(error)
        finally:
            self.done.emit()
            # The thread ends here, not only once the GUI thread hears "done": a GUI thread that
            # waits for it (the window closing during a generation) would otherwise wait in vain.
            self.thread().quit()


class Worker(QObject):
    """One background job. Connect to the signals, then ``start()``.

    ``yielded(item)`` for every item, then ``errored(exception)`` if the job raised, then always
    ``finished()`` once the thread has stopped.
    """

    yielded = Signal(object)
    errored = Signal(object)
    finished = Signal()

    def __init__(self, job: Job, name: str = "worker", parent: QObject | None = None):
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner(job, self._cancel)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.item.connect(self._on_item)
        self._runner.failed.connect(self._on_failed)
        self._runner.done.connect(self._on_done)
        self._running = False

    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> None:
        self._running = True
        _running.add(self)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next check; ``finished`` follows when it has."""
        self._cancel.set()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until the thread ends (used when the window closes); True when it did."""
        return self._thread.wait(timeout_ms)

    @Slot(object)
    def _on_item(self, item: Any) -> None:
        self.yielded.emit(item)

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self.errored.emit(error)

    @Slot()
    def _on_done(self) -> None:
        self._thread.quit()
        self._thread.wait()
        self._running = False
        self.finished.emit()
        _running.discard(self)
        # Done: deleted, so that neither its parent (for as long as the parent lives) nor the handlers
        # connected to it (a cycle the garbage collector cannot see: a preview's handlers hold its
        # take, which holds the worker) keep its job and all the job holds (a generation's document,
        # a live take's codec). Whoever still holds it may read it; its signals are gone.
        self.deleteLater()


def run_in_background(function: Callable[[], Any], on_success: Callable[[Any], None],
                      on_failure: Callable[[Exception], None], name: str = "task",
                      parent: QObject | None = None, shown_in: QObject | None = None) -> Worker:
    """Anki's QueryOp in one call: ``function()`` off the GUI thread, then ``on_success(result)``
    or ``on_failure(error)`` on it. The returned worker is already started.

    ``shown_in``: the widget the outcome is shown in. Once it is deleted (its window closed) the
    outcome is dropped: the handlers would only meet a deleted C++ object."""

    def job(cancel: threading.Event) -> Iterator[Any]:
        yield function()

    def while_shown(handler: Callable[[Any], None]) -> Callable[[Any], None]:
        return lambda outcome: handler(outcome) if shown_in is None or shiboken6.isValid(shown_in) else None

    worker = Worker(job, name, parent)
    worker.yielded.connect(while_shown(on_success))
    worker.errored.connect(while_shown(on_failure))
    worker.start()
    return worker


def wait_for_all() -> None:
    """As the application ends: every job still running (an export, a voice saved, the start-up's
    import) finishes rather than being cut off; a QThread destroyed while it runs aborts the
    process."""
    for worker in list(_running):
        worker._thread.wait()
