"""``dia-studio``: the studio window by default (``dia-studio PROJECT`` opens a project in it);
``dia-studio render …``, ``dia-studio speak …`` and ``dia-studio serve …`` on the command line.
Anything else is refused with what exists, and so is the window where there is no display for it."""

from __future__ import annotations

import difflib
import os
import sys
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# name -> (module, function taking the command's own arguments, what it does)
COMMANDS = {
    "batch": ("app.batch", "run_batch_command", "render a JSON/CSV manifest, or a folder of projects, resumably"),
    "check": ("app.check", "run_check", "check a take line by line: a swapped speaker, dropped words, silences, …"),
    "render": ("app.render", "run_render", "render a script, or a saved project, to audio files"),
    "serve": ("app.serve", "run_serve", "serve the Dia2 task API over HTTP and WebSocket"),
    "speak": ("app.speak", "run_speak", "speak text from stdin as it arrives (play it, or write a file or PCM)"),
}
OPTIONS = ("--help", "--version")
WINDOW_OPTIONS = ("--engine", "--engine-url", "--engine-key")  # where the window's model runs (app/gui.py)
# Qt's own options (QGuiApplication, QApplication, X11's), which the window passes on to it.
QT_OPTIONS = ("-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-qmljsdebugger", "-qwindowgeometry",
              "-qwindowicon", "-qwindowtitle", "-reverse", "-session", "-style", "-stylesheet", "-widgetcount",
              "-display", "-geometry", "-title", "-name", "-visual", "-sync", "-nograb", "-dograb")
# Qt platforms that draw with no display server: where Linux has no display, Qt aborts without one.
DISPLAYLESS_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")
EXIT_USAGE = 2  # as argparse: the command line itself is wrong (and the window's lack of a display)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # run as the program (tests call main with arguments of their own)
        import multiprocessing

        from core.dia2.openmp_waits import wait_passively
        from core.engine.memory import limit_malloc_arenas

        limit_malloc_arenas()  # first: before any thread allocates (the bundle's model process too)
        wait_passively()  # before torch loads OpenMP; the model's own process inherits it

        # In a bundled build, the model's own process (core/engine/own_process/child.py) is this program
        # started again: it runs the engine and never gets past here.
        multiprocessing.freeze_support()
        from app.stderr_filter import drop_leak_reports

        drop_leak_reports()
    argv = sys.argv[1:] if argv is None else argv
    first = argv[0] if argv else None
    if first in COMMANDS:
        module, function, _ = COMMANDS[first]
        return getattr(import_module(module), function)(argv[1:])
    if first in ("-h", "--help"):
        print(usage())
        return 0
    if first == "--version":
        print(f"dia-studio {_version()}")
        return 0
    problem = first and _problem(first)
    if problem:
        print(f"dia-studio: {problem}\n\n{usage()}", file=sys.stderr)
        return EXIT_USAGE
    if _no_display(argv):
        print("dia-studio: there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is "
              "set); the commands need none: dia-studio --help", file=sys.stderr)
        return EXIT_USAGE
    from app.gui import run_gui

    return run_gui(argv)


def usage() -> str:
    commands = "\n".join(f"  {name:<9}{what} (dia-studio {name} --help)"
                         for name, (_, _, what) in COMMANDS.items())
    return ("usage: dia-studio [--engine in-process|own-process|remote [--engine-url URL] [--engine-key KEY]] "
            "[PROJECT] | dia-studio COMMAND ... | dia-studio --version\n\n"
            "With no command, opens the studio window (and PROJECT, a .diastudio folder or its project.json); "
            "--engine says where its model runs this time.\n"
            f"commands:\n{commands}")


def _problem(argument: str) -> str | None:
    """Why the window cannot start with ``argument`` (None: it can): it takes a project, or Qt's
    own one-dash options (-platform, -style …) first."""
    known = OPTIONS + WINDOW_OPTIONS
    if argument.startswith("-"):
        option = argument.split("=")[0]
        return None if option in known + QT_OPTIONS else f"unknown option {argument}{_meant(option, known)}"
    if Path(argument).exists():
        return None
    if Path(argument).suffix or "/" in argument or "\\" in argument:
        return f"there is no project at {argument}"
    return f"{argument!r} is neither a command nor a project{_closest(argument, COMMANDS)}"


def _meant(option: str, known: tuple[str, ...]) -> str:
    """The long option ``option`` may stand for: by its letter (-V), else by its spelling (-versoin)."""
    if len(option) == 2:
        meant = [name for name in known if name[2] == option[1].lower()]
        return f"; did you mean {meant[0]}?" if meant else ""
    return _closest(option if option.startswith("--") else f"-{option}", known)


def _no_display(argv: list[str]) -> bool:
    """On Linux: no X11 or Wayland display, and Qt not told to draw without one (it would abort)."""
    if sys.platform != "linux" or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return False
    platforms = os.environ.get("QT_QPA_PLATFORM", "")
    if "-platform" in argv[:-1]:  # Qt's option outranks the variable
        platforms = argv[argv.index("-platform") + 1]
    # "offscreen", "vnc:size=800x600", or several to try in turn: "wayland;xcb"
    return not any(name.split(":")[0].strip() in DISPLAYLESS_PLATFORMS for name in platforms.split(";"))


def _closest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {close[0]}?" if close else ""


def _version() -> str:
    try:
        return version("dia-studio")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed: run installer/setup.sh)"


if __name__ == "__main__":
    sys.exit(main())
