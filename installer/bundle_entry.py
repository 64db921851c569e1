"""The bundle's program: ``dia-studio`` as installed from source (app.main dispatches the window and
every subcommand). In a bundle ``sys.executable`` is this program, so it also answers what Python
is asked to do by processes that start it again: ``-c CODE`` (app/stderr_filter.py's filter) and
multiprocessing's own arguments (a process started with multiprocessing runs its target)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if len(sys.argv) > 2 and sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        sys.exit()
    from app.main import main

    sys.exit(main())
