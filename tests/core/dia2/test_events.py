"""The request and event types are light: every face and relay imports them at the top, so they
must not load torch (which would make a command's --help, the server's parsing or the window's
first paint wait for the model's libraries)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Modules whose import must stay free of torch, with the events imported at their top.
LIGHT = ("core.dia2.events", "core.engine.engine", "core.service.protocol", "core.service.task_runner",
         "app.render", "app.command_line", "app.voice_flags", "app.speak", "app.main")

PROBE = r"""
import importlib, json, sys
loaded = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded[name] = "torch" in sys.modules
print(json.dumps(loaded))
"""


def test_the_events_and_the_faces_that_speak_them_import_without_torch():
    result = subprocess.run([sys.executable, "-c", PROBE, *LIGHT], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {name: False for name in LIGHT}

