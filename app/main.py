"""``dia-studio``: the studio window by default; ``dia-studio render …`` on the command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # run as the program (tests call main with arguments of their own)
        from app.stderr_filter import drop_leak_reports

        drop_leak_reports()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "render":
        from app.cli import run_render

        return run_render(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print("usage: dia-studio [render --help]\n\nWith no arguments, opens the studio window.\n"
              "  render   render a script to an audio file (dia-studio render --help)")
        return 0
    from app.gui import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
