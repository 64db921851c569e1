"""The bundle's program: ``dia-studio`` as installed from source (app.main dispatches the window and
every subcommand). It also runs ``-c CODE`` as the interpreter does: in a bundle ``sys.executable``
is this program, and app/stderr_filter.py starts its filter process as ``sys.executable -c CODE``."""

import sys

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        sys.exit()
    from app.main import main

    sys.exit(main())
