"""``dia-studio`` with no subcommand: the studio window.

The window is shown first, with only the Qt widgets imported; the studio behind it (torch and the
rest: seconds) is imported off the GUI thread once the window is on screen, then wired to it.
Until then the window says that it is starting and takes no input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

APP_NAME = "Dia Studio"
ORGANISATION = "Dia Studio"


def run_gui(argv: list[str]) -> int:
    """Open the window (a project given as the first argument is opened) and run until it closes;
    ``--engine`` (with ``--engine-url``, ``--engine-key``) says where the model runs this time."""
    engine_flags, argv = _engine_flags(argv)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)

    from app.settings import Settings, WindowLayout
    from app.workers import run_in_background, wait_for_all
    from core.document.dialogue import Dialogue
    from ui.main_window import MainWindow

    store = QSettings()
    engine = engine_choice(engine_flags, Settings(store))
    layout = WindowLayout(store)
    backend = _sound_system()
    window = MainWindow(backend)
    window.set_dialogue(Dialogue())  # something to show while the studio is imported
    layout.restore(window)  # a first start: 1280×800
    window.keep_on_screen()  # (a saved size from a larger screen, or the default on a smaller one)
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
            studio.append(controller.StudioController(Settings(store), layout, config_dir, backend, window=window,
                                                      engine=engine))
        except Exception as error:  # said, rather than a window left "starting" for ever
            cannot_start(error)
            return
        window.setEnabled(True)  # before start(): its questions (recovery) are the window's children
        studio[0].start()
        if projects:
            studio[0].open_project(projects[0])

    def painted() -> None:
        window.keep_on_screen()  # its frame (the title bar a desktop adds) is known now
        run_in_background(lambda: importlib.import_module("app.controller"), wire, cannot_start, "start-up", app)

    when_painted(window, painted)
    window.show()
    code = app.exec()
    wait_for_all()  # the window closed while the studio was still being imported, or a file written
    return code


def _engine_flags(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The engine flags, and the arguments left for the window (a project, Qt's options); a wrong
    value ends the program with a usage error, as the commands' flags do."""
    from core.engine.engine import EngineKind  # light: no torch

    parser = argparse.ArgumentParser(prog="dia-studio", add_help=False)
    parser.add_argument("--engine", choices=[kind.value for kind in EngineKind],
                        help="where the model runs this time, instead of the model manager's choice")
    parser.add_argument("--engine-url", help="with --engine remote: the dia-studio serve to generate on")
    parser.add_argument("--engine-key", help="with --engine remote: one of that server's API keys")
    flags, rest = parser.parse_known_args(argv)
    if flags.engine is None and (flags.engine_url or flags.engine_key):
        parser.error("--engine-url and --engine-key go with --engine remote")
    return flags, rest


def engine_choice(flags: argparse.Namespace, settings):
    """What the flags choose for this run (None: the settings' choice); a server's address and key
    not given are the ones the model manager keeps."""
    from core.engine.choice import EngineChoice
    from core.engine.engine import EngineKind

    if flags.engine is None:
        return None
    kind = EngineKind(flags.engine)
    if kind is not EngineKind.REMOTE:
        return EngineChoice(kind)
    url = flags.engine_url or settings.engine_url
    if not url:
        print("dia-studio: --engine remote needs the server's address: --engine-url http://HOST:PORT", file=sys.stderr)
        raise SystemExit(2)
    return EngineChoice(kind, url, flags.engine_key or settings.engine_key or None)


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
