"""``dia-studio`` with no subcommand: the studio window.

The window is shown first, with only the Qt widgets imported; the studio behind it (torch and the
rest: seconds) is imported off the GUI thread once the window is on screen, then wired to it.
Until then the window says that it is starting and takes no input.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

APP_NAME = "Dia Studio"
ORGANISATION = "Dia Studio"


def run_gui(argv: list[str]) -> int:
    """Open the window (a project given as the first argument is opened) and run until it closes."""
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)

    from app.settings import Settings, WindowLayout
    from app.workers import run_in_background
    from core.dialogue import Dialogue
    from ui.main_window import MainWindow

    store = QSettings()
    layout = WindowLayout(store)
    backend = _sound_system()
    window = MainWindow(backend)
    window.set_dialogue(Dialogue())  # something to show while the studio is imported
    if not layout.restore(window):  # a first start: 1280×800, or all of a smaller screen
        window.resize(window.size().boundedTo(window.screen().availableGeometry().size()))
    window.setEnabled(False)
    window.banner.show_message(f"{APP_NAME} is starting…")  # where the studio then says what model it has
    config_dir = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    config_dir.mkdir(parents=True, exist_ok=True)
    projects = [Path(arg) for arg in argv if not arg.startswith("-")]
    studio = []  # kept alive here once made

    def cannot_start(error: Exception) -> None:
        traceback.print_exception(error)
        QMessageBox.critical(None, APP_NAME, f"{APP_NAME} cannot start: {error}")  # the window is disabled
        app.exit(1)

    def wire(controller) -> None:
        try:
            studio.append(controller.StudioController(Settings(store), layout, config_dir, backend, window=window))
        except Exception as error:  # said, rather than a window left "starting" for ever
            cannot_start(error)
            return
        window.setEnabled(True)  # before start(): its questions (recovery) are the window's children
        studio[0].start()
        if projects:
            studio[0].open_project(projects[0])

    importing = []
    when_painted(window, lambda: importing.append(run_in_background(
        lambda: importlib.import_module("app.controller"), wire, cannot_start, "start-up", app)))
    window.show()
    code = app.exec()
    for worker in importing:
        worker.wait()  # the window was closed while the studio was still being imported
    return code


def when_painted(window: QWidget, then) -> None:
    """Call ``then`` once, right after ``window`` is first painted."""

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, then)  # once this paint is on the screen
            return False

    window.installEventFilter(FirstPaint(window))


def _sound_system():
    """The real sound system, or None (the studio still runs; playing and recording say why not)."""
    from core.audio.errors import AudioDeviceError
    from core.audio.sounddevice_backend import SoundDeviceBackend

    try:
        return SoundDeviceBackend()
    except AudioDeviceError as error:
        print(f"dia-studio: {error}", file=sys.stderr)
        return None
