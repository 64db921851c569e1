"""Autosave and recovery: copies of the document written off the GUI thread, offered after a crash."""

from __future__ import annotations

import hashlib
import json
import shutil
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from core.audio.atomic_write import write_bytes_atomically
from core.document.dialogue import Dialogue
from core.document.ids import new_id
from core.project.clips_on_disk import release
from core.project.layout import PROJECT_FILE, PROJECT_SUFFIX, RECOVERY_FILE, saving
from core.project.opening import open_project
from core.project.saving import DocumentContent, write_project


@dataclass(frozen=True)
class RecoveryCopy:
    """An autosaved copy of a document, for the project at ``project`` (None: never saved)."""

    folder: Path
    project: Path | None
    saved_at: datetime


# Untitled documents have no path to name their recovery copy after; each gets a name once.
_untitled_names: weakref.WeakKeyDictionary[Dialogue, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class PendingAutosave:
    """A recovery copy about to be written: the document's content and where it goes."""

    content: DocumentContent
    folder: Path
    project: Path | None


def prepare_autosave(dialogue: Dialogue, project: Path | str | None,
                     recovery_dir: Path | str) -> PendingAutosave:
    """Take what an autosave of the document writes; quick, so the GUI thread may call it."""
    if project is None:
        name = _untitled_names.setdefault(dialogue, f"untitled-{new_id()}")
    else:
        project = Path(project).absolute()
        name = f"{project.stem}-{hashlib.sha256(str(project).encode()).hexdigest()[:16]}"
    return PendingAutosave(DocumentContent.of(dialogue), Path(recovery_dir) / f"{name}{PROJECT_SUFFIX}",
                           project)


def write_autosave(pending: PendingAutosave) -> RecoveryCopy:
    """Write the recovery copy (the document stays unsaved); any thread may call it."""
    folder = pending.folder
    write_project(pending.content, folder, release_clips=False)
    info = {"project": None if pending.project is None else str(pending.project)}
    with saving(folder):
        write_bytes_atomically(folder / RECOVERY_FILE, json.dumps(info).encode("utf-8"))
    return RecoveryCopy(folder, pending.project, _modified_at(folder / PROJECT_FILE))


def find_recoverable(recovery_dir: Path | str) -> list[RecoveryCopy]:
    """Recovery copies newer than their project (or of untitled documents), newest first."""
    copies = []
    for folder in Path(recovery_dir).glob(f"*{PROJECT_SUFFIX}"):
        try:
            project = json.loads((folder / RECOVERY_FILE).read_text("utf-8"))["project"]
            project = None if project is None else Path(project)
            saved_at = _modified_at(folder / PROJECT_FILE)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half written by a crash: nothing to offer
        if project is not None and (project / PROJECT_FILE).exists() \
                and _modified_at(project / PROJECT_FILE) >= saved_at:
            continue
        copies.append(RecoveryCopy(folder, project, saved_at))
    return sorted(copies, key=lambda copy: copy.saved_at, reverse=True)


def recover(copy: RecoveryCopy) -> Dialogue:
    """The document in a recovery copy, marked unsaved: saving it is up to the person."""
    dialogue = open_project(copy.folder)
    dialogue.mark_unsaved()
    if copy.project is None:  # its autosaves go on into this copy, not into a second one
        _untitled_names[dialogue] = copy.folder.name.removesuffix(PROJECT_SUFFIX)
    return dialogue


def discard_recovery(copy: RecoveryCopy) -> None:
    """Delete a recovery copy, e.g. after the document was saved or the person declined it."""
    release(lambda clip: copy.folder.resolve() in clip.file.parents)
    shutil.rmtree(copy.folder, ignore_errors=True)


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
