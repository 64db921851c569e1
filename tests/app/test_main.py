"""``dia-studio`` itself: what it does with its first argument (a command, an option, a project),
run as a person runs it, in its own process."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import app.gui
from app.main import main
from core.document.dialogue import Dialogue
from core.project.saving import save_project

REPO = Path(__file__).parents[2]


def dia_studio(*args: str) -> subprocess.CompletedProcess:
    # A window that opened by mistake would never close: the timeout makes that a failure.
    return subprocess.run([sys.executable, "-m", "app.main", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"})


@pytest.mark.parametrize("args, message", [
    (["serv"], "dia-studio: 'serv' is neither a command nor a project; did you mean serve?\n"),
    (["rendr", "--script", "Hi"], "dia-studio: 'rendr' is neither a command nor a project; did you mean render?"),
    (["--versoin"], "dia-studio: unknown option --versoin; did you mean --version?"),
    (["-V"], "dia-studio: unknown option -V; did you mean --version?"),
    (["-x", "Talk.diastudio"], "dia-studio: unknown option -x\n"),
    (["Missing.diastudio"], "dia-studio: there is no project at Missing.diastudio"),
])
def test_a_wrong_first_argument_says_what_exists_instead_of_opening_the_window(args, message):
    finished = dia_studio(*args)
    assert finished.returncode == 2 and finished.stdout == ""
    assert finished.stderr.startswith(message)
    assert "render   render a script, or a saved project, to audio files" in finished.stderr  # what exists


@pytest.mark.skipif(sys.platform != "linux", reason="a display is X11's or Wayland's on Linux only")
@pytest.mark.parametrize("args, platform", [([], None), (["Talk.diastudio"], "xcb"), (["--engine", "in-process"], "")])
def test_without_a_display_the_window_is_refused_in_one_line_instead_of_qt_aborting(tmp_path, args, platform):
    save_project(Dialogue.from_script("[S1] Hi."), tmp_path / "Talk.diastudio")
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    if platform is not None:
        environment["QT_QPA_PLATFORM"] = platform
    finished = subprocess.run([sys.executable, "-m", "app.main", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env=environment)
    assert (finished.returncode, finished.stdout) == (2, "")
    assert finished.stderr == ("dia-studio: there is no display to open the window on (neither DISPLAY nor "
                               "WAYLAND_DISPLAY is set); the commands need none: dia-studio --help\n")


@pytest.mark.parametrize("environment, args", [
    ({"DISPLAY": ":0"}, []), ({"WAYLAND_DISPLAY": "wayland-0"}, []), ({"QT_QPA_PLATFORM": "offscreen"}, []),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, []), ({"QT_QPA_PLATFORM": "wayland;minimal"}, []),
    ({"QT_QPA_PLATFORM": "xcb"}, ["-platform", "offscreen"]),
])
def test_a_display_or_a_platform_that_needs_none_opens_the_window(monkeypatch, environment, args):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    opened = []
    monkeypatch.setattr(app.gui, "run_gui", lambda argv: opened.append(argv) or 0)
    assert main(args) == 0 and opened == [args]


def test_version_is_the_installed_one():
    finished = dia_studio("--version")
    assert (finished.returncode, finished.stdout) == (0, f"dia-studio {version('dia-studio')}\n")


def test_help_lists_the_commands():
    finished = dia_studio("--help")
    assert finished.returncode == 0 and "render   render a script, or a saved project, to audio files" in finished.stdout
    assert "--version" in finished.stdout


@pytest.mark.parametrize("given", ["Talk.diastudio", "Talk.diastudio/project.json", "-platform"])
def test_a_project_or_a_qt_option_goes_to_the_window(tmp_path, monkeypatch, given):
    save_project(Dialogue.from_script("[S1] Hi."), tmp_path / "Talk.diastudio")
    monkeypatch.chdir(tmp_path)
    opened = []
    monkeypatch.setattr(app.gui, "run_gui", lambda argv: opened.append(argv) or 0)
    assert main([given, "offscreen"] if given == "-platform" else [given]) == 0
    assert opened[0][0] == given


def test_the_engine_flags_go_to_the_window(monkeypatch):
    opened = []
    monkeypatch.setattr(app.gui, "run_gui", lambda argv: opened.append(argv) or 0)
    assert main(["--engine", "own-process"]) == 0 and main(["--engine=remote", "--engine-url", "http://box"]) == 0
    assert opened == [["--engine", "own-process"], ["--engine=remote", "--engine-url", "http://box"]]


@pytest.mark.parametrize("args, message", [
    (["--engine", "gpu"], "argument --engine: invalid choice: 'gpu' (choose from 'in-process', 'own-process', "
                          "'remote')"),
    (["--engine-url", "http://box"], "--engine-url and --engine-key go with --engine remote"),
    (["--engine", "remote"], "--engine remote needs the server's address: --engine-url http://HOST:PORT"),
])
def test_a_wrong_engine_flag_is_a_usage_error_before_any_window(tmp_path, args, message):
    finished = subprocess.run([sys.executable, "-m", "app.main", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=60, env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
                                               "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert finished.returncode == 2 and message in finished.stderr


def test_the_engine_flags_choose_for_this_run_and_a_server_keeps_its_saved_key(tmp_path):
    from PySide6.QtCore import QSettings

    from app.gui import _engine_flags, engine_choice
    from app.settings import Settings
    from core.engine.choice import EngineChoice
    from core.engine.engine import EngineKind

    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.engine_url, settings.engine_key = "http://saved:8000", "saved-key"

    def chosen(*argv):
        flags, rest = _engine_flags(list(argv))
        return engine_choice(flags, settings), rest

    assert chosen("Talk.diastudio") == (None, ["Talk.diastudio"])  # the settings' choice
    assert chosen("--engine", "own-process", "Talk.diastudio") == (EngineChoice(EngineKind.OWN_PROCESS),
                                                                   ["Talk.diastudio"])
    assert chosen("--engine", "remote")[0] == EngineChoice(EngineKind.REMOTE, "http://saved:8000", "saved-key")
    assert chosen("--engine", "remote", "--engine-url", "http://box:1", "--engine-key", "k")[0] == EngineChoice(
        EngineKind.REMOTE, "http://box:1", "k")
