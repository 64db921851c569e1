"""Where the studio keeps what every project shares (the voice library, the shared pronunciation
lexicon, autosaves): Qt's application data folder for Dia Studio, as the window finds it, so that
a command (``render --project``) finds the same one without a window."""

from __future__ import annotations

from pathlib import Path

# The names the window gives the application (app/gui.py), which the folder is named after.
APP_NAME = ORGANISATION = "Dia Studio"


def studio_data_folder() -> Path:
    """The folder (``~/.local/share/Dia Studio/Dia Studio`` on Linux); it may not exist yet."""
    from PySide6.QtCore import QCoreApplication, QStandardPaths  # only QtCore: no display needed

    names = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APP_NAME)
    try:
        return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    finally:  # a process that named itself otherwise keeps its names
        QCoreApplication.setOrganizationName(names[0])
        QCoreApplication.setApplicationName(names[1])
