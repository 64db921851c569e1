"""``dia-studio`` with no subcommand: the studio window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

APP_NAME = "Dia Studio"
ORGANISATION = "Dia Studio"


def run_gui(argv: list[str]) -> int:
    """Open the window (a project given as the first argument is opened) and run until it closes."""
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)
    # The studio's imports (torch, codecs) take seconds: show that it is starting.
    splash = QSplashScreen(_splash_picture())
    splash.show()
    app.processEvents()

    from app.controller import StudioController
    from app.settings import Settings, WindowLayout

    store = QSettings()
    config_dir = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    config_dir.mkdir(parents=True, exist_ok=True)
    studio = StudioController(Settings(store), WindowLayout(store), config_dir, _sound_system())
    studio.start()
    splash.finish(studio.window)
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


def _splash_picture() -> QPixmap:
    picture = QPixmap(420, 140)
    picture.fill(QColor("#1f2a44"))
    painter = QPainter(picture)
    painter.setPen(QColor("white"))
    painter.setFont(QFont(painter.font().family(), 22, QFont.Weight.Bold))
    painter.drawText(picture.rect().adjusted(0, 0, 0, -30), Qt.AlignmentFlag.AlignCenter, APP_NAME)
    painter.setFont(QFont(painter.font().family(), 10))
    painter.drawText(picture.rect().adjusted(0, 60, 0, 0), Qt.AlignmentFlag.AlignCenter, "Starting…")
    painter.end()
    return picture
