"""``dia-studio`` with no subcommand: run_gui opens the window and returns when it is closed."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.gui import run_gui
from ui.main_window import MainWindow


def test_run_gui_opens_the_studio_and_returns_when_it_closes(qapp, monkeypatch, tmp_path):
    # Settings and app data go to a fresh place: a first start.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    shown = []

    def close_the_studio_once_shown() -> None:
        shown.extend(w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible() and w.isEnabled())  # the studio is wired
        for window in shown:
            window.close()

    watcher = QTimer()
    watcher.setInterval(50)
    watcher.timeout.connect(close_the_studio_once_shown)
    watcher.start()
    guard = QTimer()  # never hang the test run
    guard.setSingleShot(True)
    guard.timeout.connect(lambda: qapp.exit(1))
    guard.start(30_000)
    try:
        assert run_gui([]) == 0
    finally:
        watcher.stop()
        guard.stop()

    (window,) = shown
    assert window.windowTitle() == "Untitled[*] — Dia Studio"
    assert window.timeline.model().rowCount() == 4  # the example, at a first start
    assert list((tmp_path / "config").rglob("*.conf"))  # settings and layout were stored
