"""``dia-studio``: the studio window by default; ``dia-studio render …`` and ``dia-studio serve …``
on the command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "render":
        from app.cli import run_render

        return run_render(argv[1:])
    if argv and argv[0] == "serve":
        from app.serve import run_serve

        return run_serve(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print("usage: dia-studio [render --help]\n\nWith no arguments, opens the studio window.\n"
              "  render   render a script to an audio file (dia-studio render --help)\n"
              "  serve    serve the Dia2 task API over HTTP (dia-studio serve --help)")
        return 0
    from app.gui import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
