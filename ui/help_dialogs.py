"""The Help menu's windows: every keyboard shortcut (read off the window's own commands, so the
list is never out of date) and About (the version, the model's makers and the licences)."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QMessageBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

# Keys the timeline answers itself (not commands of the window), as docs/studio.md's table has them.
TIMELINE_KEYS = (("Split the line at the cursor", "Enter"),
                 ("Join the line to the one above (at its start)", "Backspace"),
                 ("Edit the current line", "F2"),
                 ("Leave the line being edited", "Esc"))


def studio_version() -> str:
    try:
        return version("dia-studio")
    except PackageNotFoundError:  # a checkout not installed (set-up installs it)
        return "unknown (not installed)"


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(command, keys) for each of the window's commands that has keys, in the menus' order."""
    rows = []
    for action in actions:
        keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts()
                         if _on_a_keyboard(key))
        if keys:
            rows.append((action.property("command") or action.text().replace("&", ""), keys))
    return rows + list(TIMELINE_KEYS)


def _on_a_keyboard(key: QKeySequence) -> bool:
    """Not the dedicated keys of some keyboards that the platform's standard keys add (New, Shift+Save,
    F14…): the last key is a character, F1–F12, or a key every keyboard has."""
    last = key.toString(QKeySequence.SequenceFormat.PortableText).split("+")[-1]
    return len(last) == 1 or re.fullmatch(r"F([1-9]|1[0-2])|Esc|Del|Ins|Backspace|Return|Enter|Space|Tab|Up|Down|"
                                          r"Left|Right|Home|End|PgUp|PgDown", last) is not None


class ShortcutsDialog(QDialog):
    def __init__(self, actions: list[QAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Command", "Keys"])
        for row, (command, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(command))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 560)


def about_text(app_name: str) -> str:
    return (f"<h3>{app_name} {studio_version()}</h3>"
            "<p>A voice studio for two-speaker dialogue, running the open Dia2 text-to-speech model on "
            "this computer (or on a server of yours).</p>"
            "<p>Dia2 is made by Nari Labs and published under the Apache License 2.0; its audio codec is "
            "Kyutai's Mimi. Speech recognition for voices: OpenAI's Whisper (MIT).</p>"
            f"<p>{app_name} is published under the Apache License 2.0.</p>")


def show_about(parent: QWidget, app_name: str) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle(f"About {app_name}")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(app_name))
    box.setObjectName("about_box")
    box.open()  # not exec(): the window goes on (and tests are not held in its loop)
