"""``dia-studio`` with no subcommand: the studio window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication

APP_NAME = "Dia Studio"
ORGANISATION = "Dia Studio"


def run_gui(argv: list[str]) -> int:
    """Open the window (a project given as the first argument is opened) and run until it closes."""
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)

    from app.controller import StudioController
    from app.settings import Settings, WindowLayout

    store = QSettings()
    config_dir = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    config_dir.mkdir(parents=True, exist_ok=True)
    studio = StudioController(Settings(store), WindowLayout(store), config_dir, _sound_system())
    studio.start()
    projects = [Path(arg) for arg in argv if not arg.startswith("-")]
    if projects:
        studio.open_project(projects[0])
    return app.exec()


def _sound_system():
    """The real sound system, or None (the studio still runs; playing and recording say why not)."""
    from core.audio.errors import AudioDeviceError
    from core.audio.sounddevice_backend import SoundDeviceBackend

    try:
        return SoundDeviceBackend()
    except AudioDeviceError as error:
        print(f"dia-studio: {error}", file=sys.stderr)
        return None
