"""Autosave off the GUI thread: the document's content is taken on the GUI thread (cheap: its
values are immutable) and written into its recovery copy on a thread of its own, so a slow disk
never freezes the window.

One copy is written at a time. A request made while one is being written waits, and a newer
request replaces it: however many come meanwhile, one more write follows, of the newest content.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal

from core.errors import describe_error
from core.project.recovery import PendingAutosave, RecoveryCopy, write_autosave


@dataclass
class _Write:
    pending: PendingAutosave
    revision: int  # the document's revision the content is of
    thread: threading.Thread | None = None
    copy: RecoveryCopy | None = None
    error: Exception | None = None


class Autosaver(QObject):
    saved = Signal(object, int)  # the RecoveryCopy, the document revision it holds
    failed = Signal(str)  # what went wrong, for the status bar
    _finished_on_thread = Signal(object)  # the _Write, emitted on its thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        # What writes a copy; tests put a slow or failing disk behind the same interface.
        self.write: Callable[[PendingAutosave], RecoveryCopy] = write_autosave
        self._running: _Write | None = None
        self._waiting: _Write | None = None
        self._finished_on_thread.connect(self._finished, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._running is not None

    def save(self, pending: PendingAutosave, revision: int) -> None:
        """Write ``pending`` in the background, after the write in progress if there is one."""
        request = _Write(pending, revision)
        if self._running is None:
            self._start(request)
        else:
            self._waiting = request

    def finish(self) -> None:
        """Wait for the write in progress and drop a waiting one: the document is about to be
        saved, replaced or closed, and its recovery copy must not change under that."""
        self._waiting = None
        running = self._running
        if running is not None:
            running.thread.join()
            self._finished(running)

    def _start(self, request: _Write) -> None:
        self._running = request
        request.thread = threading.Thread(target=self._write, args=(request,), name="autosave")
        request.thread.start()

    def _write(self, request: _Write) -> None:  # on the autosave thread
        try:
            request.copy = self.write(request.pending)
        except Exception as error:  # handed to the GUI thread, which reports it
            request.error = error
        self._finished_on_thread.emit(request)

    def _finished(self, request: _Write) -> None:
        if request is not self._running:
            return  # finish() has dealt with it already
        self._running = None
        if request.error is None:
            self.saved.emit(request.copy, request.revision)
        else:
            error = request.error
            self.failed.emit(f"Autosave failed. {describe_error(error)} Your work is still open; save it elsewhere "
                             "if this goes on.")
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._start(waiting)
