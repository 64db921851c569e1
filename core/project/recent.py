"""The projects opened or saved lately."""

from __future__ import annotations

import json
from pathlib import Path

from core.audio.atomic_write import write_bytes_atomically
from core.project.layout import PROJECT_FILE, RECENT_FILE, RECENT_LIMIT, saving


class RecentProjects:
    """Projects opened or saved lately, most recent first, kept in a small JSON file."""

    def __init__(self, config_dir: Path | str, limit: int = RECENT_LIMIT):
        self.file = Path(config_dir) / RECENT_FILE
        self.limit = limit

    def paths(self) -> list[Path]:
        """The recent projects that still exist."""
        try:
            stored = json.loads(self.file.read_text("utf-8"))["projects"]
            paths = [Path(item) for item in stored if isinstance(item, str)]
        except (OSError, ValueError, KeyError, TypeError):
            return []  # a damaged list only costs the shortcuts; it must not stop the app
        return [path for path in paths if (path / PROJECT_FILE).is_file()][:self.limit]

    def add(self, project: Path | str) -> None:
        project = Path(project).absolute()
        self._store([project] + [path for path in self.paths() if path != project])

    def remove(self, project: Path | str) -> None:
        project = Path(project).absolute()
        self._store([path for path in self.paths() if path != project])

    def _store(self, paths: list[Path]) -> None:
        data = {"projects": [str(path) for path in paths[:self.limit]]}
        with saving(self.file):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(self.file, json.dumps(data, indent=2).encode("utf-8"))
