"""How long the studio takes to show itself: from launching ``python -m app.main`` to its first
paint (splash or window), to the main window's first paint, and to a window that takes typing
(enabled, its document shown), now and at an older revision.

    python bench/bench_startup.py [--before REV] [--repeat 3] [--model FOLDER]

Each start is a fresh process with its own empty settings (a first start: the example opens);
``--model`` makes it a later start that loads that model folder, as a saved choice does. The
older revision is exported with ``git archive`` into a temporary folder and run the same way.
Figures are medians; the load average is printed first because a busy machine stretches them.
Needs a display: Xvfb's, or QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run inside the studio's process: notes when the first thing is painted, when the main window
# is, and when it is painted enabled with its document, then leaves at once.
PROBE = r"""
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
app.setOrganizationName("Dia Studio"); app.setApplicationName("Dia Studio")
if os.environ.get("BENCH_MODEL"):
    store = QSettings()
    for key, value in (("model/last", os.environ["BENCH_MODEL"]), ("model/device", "cpu"),
                       ("model/precision", "float32"), ("app/first_start_done", True)):
        store.setValue(key, value)
    store.sync()
seen = {}
class Watch(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.isWidgetType():
            seen.setdefault("first_paint", time.time())
            window = watched.window()
            timeline = getattr(window, "timeline", None)
            if timeline is not None:
                seen.setdefault("window_painted", time.time())
            if timeline is not None and timeline.model() is not None and window.isEnabled():
                seen["window_ready"] = time.time()
                print(json.dumps(seen), flush=True)
                os._exit(0)
        return False
watch = Watch()
app.installEventFilter(watch)
from app.main import main
main([])
"""


def one_start(tree: Path, model: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data",
                   XDG_CACHE_HOME=os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
                   BENCH_MODEL=model or "")
        started = time.time()
        result = subprocess.run([sys.executable, "-c", PROBE], cwd=tree, env=env, capture_output=True,
                                text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"the studio in {tree} did not show its window:\n{result.stderr[-2000:]}")
    return {name: moment - started for name, moment in json.loads(lines[-1]).items()}


def measure(tree: Path, repeat: int, model: str | None) -> dict[str, float]:
    starts = [one_start(tree, model) for _ in range(repeat)]
    return {name: statistics.median(start[name] for start in starts) for name in starts[0]}


def exported(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a git revision to compare with (e.g. fd84dec)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", help="a model folder loaded at start (a later start)")
    args = parser.parse_args()
    model = str(Path(args.model).resolve()) if args.model else None
    start = f"later start, model {model}" if model else "first start"
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Qt platform "
          f"{os.environ.get('QT_QPA_PLATFORM', 'default')}; {start}")
    trees = [("now", ROOT)]
    with tempfile.TemporaryDirectory() as scratch:
        if args.before:
            trees.insert(0, (f"at {args.before}", exported(args.before, Path(scratch))))
        for name, tree in trees:
            figures = measure(tree, args.repeat, model)
            print(f"{name:>14}: first paint {figures['first_paint']:.2f} s, window painted "
                  f"{figures['window_painted']:.2f} s, window taking typing {figures['window_ready']:.2f} s")


if __name__ == "__main__":
    main()
