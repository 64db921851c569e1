"""The open document and its place on disk: new, open, save, autosave into a recovery folder, and
the list of recent projects. No questions are asked here; the controller asks them first."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.autosave import Autosaver
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.project.layout import project_folder, project_name
from core.project.opening import open_project
from core.project.recent import RecentProjects
from core.project.recovery import RecoveryCopy, discard_recovery, find_recoverable, prepare_autosave, recover
from core.project.saving import save_project

UNTITLED = "Untitled"


class DocumentSession(QObject):
    document_replaced = Signal(object)  # the new Dialogue
    state_changed = Signal()  # name, path or the unsaved mark changed
    autosave_failed = Signal(str)

    def __init__(self, config_dir: Path, autosave_seconds: int, parent: QObject | None = None):
        super().__init__(parent)
        self.recovery_dir = config_dir / "recovery"
        self.recent = RecentProjects(config_dir)
        self.dialogue = Dialogue()
        self.path: Path | None = None
        self._recovery: RecoveryCopy | None = None
        self._autosaved_revision = self.dialogue.revision  # of the last copy written
        self._requested_revision = self.dialogue.revision  # of the last copy asked for
        self._unsubscribe = self.dialogue.subscribe(self._on_change)
        self.autosaver = Autosaver(self)
        self.autosaver.saved.connect(self._autosaved)
        self.autosaver.failed.connect(self._autosave_failed)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(max(autosave_seconds, 1) * 1000)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()

    @property
    def name(self) -> str:
        return project_name(self.path) if self.path else UNTITLED

    # --- replacing the document ------------------------------------------------------------------

    def new(self) -> None:
        self._show(Dialogue(), None)

    def open(self, path: Path) -> None:
        """Open a project (its folder, or the project.json in it); raises ProjectFileError with a
        message for the person."""
        path = project_folder(path)
        dialogue = open_project(path)
        self._show(dialogue, path)
        self.recent.add(path)

    def open_copy(self, path: Path) -> None:
        """Open a project as a new untitled document (the bundled example: saving asks where)."""
        self._show(open_project(path), None)

    def recover(self, copy: RecoveryCopy) -> None:
        self._show(recover(copy), copy.project)
        self._recovery = copy  # written over by the next autosave, deleted once saved

    def _show(self, dialogue: Dialogue, path: Path | None) -> None:
        self.discard_recovery()
        self._unsubscribe()
        self.dialogue, self.path = dialogue, path
        self._autosaved_revision = self._requested_revision = dialogue.revision
        self._unsubscribe = dialogue.subscribe(self._on_change)
        self.document_replaced.emit(dialogue)
        self.state_changed.emit()

    # --- saving ----------------------------------------------------------------------------------

    def save(self, path: Path | None = None) -> None:
        """Save (to ``path``, or where it was last saved); raises ProjectFileError."""
        target = path or self.path
        if target is None:
            raise ValueError("an untitled document needs a path to be saved")
        self._settle_autosave()  # it may be copying audio files that this save deletes
        save_project(self.dialogue, target)
        self.path = target
        self.recent.add(target)
        self.discard_recovery()
        self.state_changed.emit()

    def autosave_now(self) -> None:
        """Write a recovery copy in the background if the document changed since the last one."""
        dialogue = self.dialogue
        if not dialogue.modified or dialogue.revision == self._requested_revision or dialogue.generating:
            return  # nothing new, or a take is on its way: autosave after it lands
        self._requested_revision = dialogue.revision
        self.autosaver.save(prepare_autosave(dialogue, self.path, self.recovery_dir), dialogue.revision)

    def close(self) -> None:
        """The window closes (the person saved or discarded): let a running autosave end, so no
        half-written copy is left, then delete this document's copy."""
        self.autosave_timer.stop()
        self.discard_recovery()

    def _settle_autosave(self) -> None:
        """Let the autosave being written end and drop a waiting one (a later tick asks again)."""
        self.autosaver.finish()
        self._requested_revision = self._autosaved_revision

    def _autosaved(self, copy: RecoveryCopy, revision: int) -> None:
        self._recovery = copy
        self._autosaved_revision = revision

    def _autosave_failed(self, message: str) -> None:
        self._requested_revision = self._autosaved_revision  # the next tick tries again
        self.autosave_failed.emit(message)

    def recoverable(self) -> list[RecoveryCopy]:
        return find_recoverable(self.recovery_dir)

    def discard_copy(self, copy: RecoveryCopy) -> None:
        """Delete a recovery copy the person declined."""
        discard_recovery(copy)

    def discard_recovery(self) -> None:
        """Delete this document's recovery copy: it was saved, or its changes were thrown away."""
        self._settle_autosave()
        if self._recovery is not None:
            discard_recovery(self._recovery)
            self._recovery = None

    def _on_change(self, change: Change) -> None:
        if change != Change.GENERATING:  # marking lines as generating changes nothing to save
            self.state_changed.emit()
