"""The names a project folder uses, its format's version, and what a project problem is called."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.document.clips import AudioClip
from core.document.takes import Take
from core.errors import DiaStudioError

FORMAT_VERSION = 4
PROJECT_SUFFIX = ".diastudio"
PROJECT_FILE = "project.json"
AUDIO_DIR = "audio"
RECOVERY_FILE = "recovery.json"
RECENT_FILE = "recent_projects.json"
RECENT_LIMIT = 10

AUDIO_NAME = re.compile(rf"{AUDIO_DIR}/([0-9A-Za-z_-]+)\.flac")
CODES_NAME = re.compile(rf"{AUDIO_DIR}/[0-9A-Za-z_-]+\.codes\.npy")


class ProjectFileError(DiaStudioError):
    """A project that cannot be opened or saved; the message names the file and what is wrong."""


def project_folder(path: Path | str) -> Path:
    """The project folder ``path`` names: the folder itself, or the folder of its project.json."""
    path = Path(path)
    return path.parent if path.name == PROJECT_FILE else path


def project_name(folder: Path | str) -> str:
    """What a project is called (the window's title, an export's): its folder's name, without ``.diastudio``."""
    return Path(folder).name.removesuffix(PROJECT_SUFFIX)


def audio_file_name(clip: AudioClip) -> str:
    return f"{clip.id}.flac"


def codes_file_name(take: Take) -> str:
    return f"{take.audio.id}.codes.npy"  # a take's clip is its own, and so are its codes


def os_problem(error: OSError) -> str:
    problem = error.strerror or str(error)
    return f"{problem} ({error.filename})" if error.filename else problem


@contextmanager
def saving(path: Path, outcome: str = "") -> Iterator[None]:
    """Report a failed write (disk full, no permission) as a ProjectFileError naming ``path``;
    ``outcome`` tells what became of what was on disk."""
    try:
        yield
    except OSError as error:
        raise ProjectFileError(f"Could not save {path}: {os_problem(error)}.{outcome}") from error
