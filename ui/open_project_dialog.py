"""Open project: a file dialog in which a ``Name.diastudio`` project is picked as one document
(open its folder, or the project.json in it), not a folder picker that takes any folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from core.project.layout import PROJECT_FILE, PROJECT_SUFFIX, project_folder


class OpenProjectDialog(QFileDialog):
    def __init__(self, folder: str, parent: QWidget | None = None):
        super().__init__(parent, "Open project", folder,
                         f"Dia Studio projects (*{PROJECT_SUFFIX} {PROJECT_FILE})")
        # Qt's own dialog: a native one does not say when a folder is opened, which is how a
        # project folder is picked.
        self.setOption(QFileDialog.Option.DontUseNativeDialog)
        self.setFileMode(QFileDialog.FileMode.ExistingFile)
        self.setLabelText(QFileDialog.DialogLabel.FileName, "Project:")
        self._project: Path | None = None
        self.directoryEntered.connect(self._opened_folder)

    def chosen_project(self) -> Path | None:
        """The project folder picked, or None when the dialog was cancelled."""
        return self._project if self.result() == QDialog.DialogCode.Accepted else None

    def accept(self) -> None:
        """Open (or Enter) on a project folder, or on its project.json, opens the project;
        QFileDialog would look inside a folder, or leave a project.json it did not list unopened."""
        projects = {project for project in map(_project_of, self.selectedFiles()) if project}
        if len(projects) == 1:  # typed and selected may both name it
            self._take(projects.pop())
        else:
            super().accept()  # into a folder, or says what is wrong

    def _opened_folder(self, folder: str) -> None:
        project = _project_of(folder)
        if project:  # double-clicked: open it, rather than look inside
            self._take(project)

    def _take(self, project: Path) -> None:
        self._project = project
        QDialog.accept(self)


def _project_of(path: str) -> Path | None:
    """The project ``path`` names (its folder, or the project.json in it), else None."""
    folder = project_folder(path)
    return folder if (folder / PROJECT_FILE).is_file() else None
