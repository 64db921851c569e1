"""Starting the studio: the window is on screen before the heavy imports, and an empty project
takes typing at once (its first line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.document.speakers import Speaker
from tests.ui.conftest import TINY_CHECKPOINT

ROOT = Path(__file__).resolve().parents[2]


def type_into_focus(qtbot, text: str) -> None:
    """Real key presses, each to whatever has the keyboard focus then."""
    for character in text:
        qtbot.keyClick(QApplication.focusWidget(), character)


def test_typing_in_an_empty_project_writes_its_first_line(studio, qtbot):
    window = studio.window  # a later start: an empty project
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    assert not studio.dialogue.lines
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.timeline)
    type_into_focus(qtbot, "Hello there")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert [(line.speaker, line.text) for line in studio.dialogue.lines][:1] == [(Speaker.S1, "Hello there")]


def test_typing_reaches_the_lines_after_the_window_waited_disabled_for_the_studio(make_studio, qtbot):
    """As run_gui starts: the window on screen, disabled while the studio loads (which takes the
    focus away), then enabled and started. Typing had to wait for a click on the table."""
    studio = make_studio(start=False)
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.setEnabled(False)
    window.setEnabled(True)
    studio.start()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.timeline)
    type_into_focus(qtbot, "Hello")
    assert [line.text for line in studio.dialogue.lines] == ["Hello"]


def test_a_new_project_also_takes_typing_and_enter_starts_its_first_line(studio, qtbot):
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.actions.new_project.trigger()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.timeline)
    qtbot.keyClick(window.timeline, Qt.Key.Key_Return)
    type_into_focus(qtbot, "Hi")
    assert [line.text for line in studio.dialogue.lines] == ["Hi"]


# In a fresh studio process: which heavy modules are loaded when the main window is first painted.
FIRST_PAINT_PROBE = r"""
import json, os, sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
class Watch(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.isWidgetType() and hasattr(watched.window(), "timeline"):
            print(json.dumps([name for name in HEAVY if name in sys.modules]), flush=True)
            os._exit(0)
        return False
HEAVY = ("torch", "scipy", "transformers", "app.controller")
watch = Watch()
app.installEventFilter(watch)
from app.main import main
main([])
"""


def test_the_window_is_painted_before_torch_and_the_studio_are_imported(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-c", FIRST_PAINT_PROBE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr[-2000:]


# In a fresh process: on which thread the model's libraries are imported when a model is loaded.
MODEL_IMPORT_PROBE = r"""
import importlib.abc, json, os, sys, threading
on_gui_thread = {}
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in ("core.dia2.runtime", "transformers"):
            on_gui_thread.setdefault(name, threading.current_thread() is threading.main_thread())
        return None
sys.meta_path.insert(0, Watch())
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
from PySide6.QtCore import QSettings
from app.model_session import ModelSession
from app.settings import Settings
from core.engine.choice import EngineChoice, open_engine
session = ModelSession(Settings(QSettings(sys.argv[2], QSettings.Format.IniFormat)), open_engine, EngineChoice())
session.loaded.connect(lambda runtime: app.quit())
session.failed.connect(lambda message: (print(message, file=sys.stderr), app.quit()))
session.load(sys.argv[1], "cpu", "float32")
app.exec()
print(json.dumps(on_gui_thread), flush=True)
os._exit(0)
"""


def test_loading_a_model_imports_its_libraries_off_the_gui_thread(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", MODEL_IMPORT_PROBE, str(TINY_CHECKPOINT),
                             str(tmp_path / "settings.ini")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert json.loads(result.stdout) == {"core.dia2.runtime": False, "transformers": False}, result.stderr[-2000:]
