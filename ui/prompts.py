"""The questions the studio asks: modal dialogs behind one small object, so a test can answer
them without a person (it swaps in its own ``Prompts``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget

from core.dia2.script import MAX_BREAK_SECONDS
from core.document.markup import pause_markup
from ui.export_dialog import ExportChoice, ExportDialog
from ui.open_project_dialog import OpenProjectDialog

PROJECT_FILTER = "Dia Studio project (*.diastudio)"


class Prompts:
    def __init__(self, parent: QWidget):
        self.parent = parent

    def save_changes(self, name: str) -> str:
        """"save", "discard" or "cancel"."""
        answer = QMessageBox.question(
            self.parent, "Unsaved changes", f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def recover(self, description: str) -> str:
        """"recover", "discard" (delete the copy) or "keep" (ask again next time)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"Dia Studio closed without saving {description}. Recover it?", parent=self.parent)
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return "recover" if box.clickedButton() is recover else "discard" if box.clickedButton() is discard \
            else "keep"

    def error(self, title: str, message: str) -> None:
        QMessageBox.warning(self.parent, title, message)

    def open_project_path(self, folder: str) -> Path | None:
        dialog = OpenProjectDialog(folder, self.parent)
        dialog.exec()
        return dialog.chosen_project()

    def save_project_path(self, suggested: Path) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save project as", str(suggested), PROJECT_FILTER)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix == ".diastudio" else path.with_name(path.name + ".diastudio")

    def pause_markup(self) -> str | None:
        seconds, ok = QInputDialog.getDouble(self.parent, "Insert pause", "Pause length (seconds):", 1.0,
                                             0.1, MAX_BREAK_SECONDS, 1)
        return pause_markup(seconds) if ok else None

    def export(self, initial: ExportChoice, summary: str, selection: tuple[str, ...] = (),
               planned: Callable[[ExportChoice], Sequence[Path]] | None = None) -> ExportChoice | None:
        dialog = ExportDialog(initial, summary, selection, self.parent, planned)
        return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None
