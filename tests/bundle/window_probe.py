"""Run inside the bundle (``dia-studio -c "$(cat window_probe.py)"``): starts the studio window as
``dia-studio`` does, waits until the studio behind it is wired (the window takes input), prints
what the window shows as one JSON line, and closes the window as a person would."""

import json
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.main import main

app = QApplication(["dia-studio"])


def report_then_close() -> None:
    windows = [widget for widget in app.topLevelWidgets() if type(widget).__name__ == "MainWindow"]
    if not windows or not windows[0].isEnabled():  # still importing the studio
        QTimer.singleShot(100, report_then_close)
        return
    window = windows[0]
    lines = window.timeline.model()
    shown = {
        "title": window.windowTitle(),
        "platform": QApplication.platformName(),
        "lines": [" ".join(str(lines.index(row, column).data(Qt.ItemDataRole.DisplayRole) or "")
                           for column in range(lines.columnCount())) for row in range(lines.rowCount())],
        "banner": window.banner.text.text(),
    }
    print(json.dumps(shown), flush=True)
    window.close()


QTimer.singleShot(0, report_then_close)
sys.exit(main([]))
