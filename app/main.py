"""``dia-studio``: the studio window by default (``dia-studio PROJECT`` opens a project in it);
``dia-studio render …``, ``dia-studio speak …`` and ``dia-studio serve …`` on the command line.
Anything else is refused with what exists."""

from __future__ import annotations

import difflib
import sys
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# name -> (module, function taking the command's own arguments, what it does)
COMMANDS = {
    "batch": ("app.batch", "run_batch_command", "render a JSON/CSV manifest, or a folder of projects, resumably"),
    "render": ("app.cli", "run_render", "render a script, or a saved project, to audio files"),
    "serve": ("app.serve", "run_serve", "serve the Dia2 task API over HTTP and WebSocket"),
    "speak": ("app.speak", "run_speak", "speak text from stdin as it arrives (play it, or write a file or PCM)"),
}
OPTIONS = ("--help", "--version")
WINDOW_OPTIONS = ("--engine", "--engine-url", "--engine-key")  # where the window's model runs (app/gui.py)
EXIT_USAGE = 2  # as argparse: the command line itself is wrong


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # run as the program (tests call main with arguments of their own)
        import multiprocessing

        # In a bundled build, the model's own process (core/engine/own_process.py) is this program
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
    if argument.startswith("--"):
        known = OPTIONS + WINDOW_OPTIONS
        return None if argument.split("=")[0] in known else f"unknown option {argument}{_closest(argument, known)}"
    if argument.startswith("-") or Path(argument).exists():
        return None
    if Path(argument).suffix or "/" in argument or "\\" in argument:
        return f"there is no project at {argument}"
    return f"{argument!r} is neither a command nor a project{_closest(argument, COMMANDS)}"


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
