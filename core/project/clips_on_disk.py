"""Clips read from a project's files, so that a file about to be deleted is first read into
memory by every clip still reading it (undo may bring them back)."""

from __future__ import annotations

import threading
import weakref
from typing import Callable

from core.document.clips import AudioClip

# Clips read from files, so a file can be released before it is deleted (see keep_in_memory).
# Autosaves read it on their own thread while the GUI thread opens projects, hence the lock.
_tracked: weakref.WeakSet[AudioClip] = weakref.WeakSet()
_tracked_lock = threading.Lock()


def clips_reading(matches: Callable[[AudioClip], bool]) -> list[AudioClip]:
    """The live clips read from a file that ``matches``."""
    with _tracked_lock:
        clips = list(_tracked)
    return [clip for clip in clips if clip.file is not None and matches(clip)]


def release(matches: Callable[[AudioClip], bool]) -> None:
    """Load into memory the live clips whose files are about to be deleted (undo may need them)."""
    for clip in clips_reading(matches):
        clip.keep_in_memory()


def track(clip: AudioClip) -> None:
    """Note a clip that reads its samples from a project's file."""
    with _tracked_lock:
        _tracked.add(clip)
