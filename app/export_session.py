"""Exporting the dialogue from the window: asked how (the last choice offered again, remembered in
the settings), then written off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.document_session import DocumentSession
from app.settings import Settings
from app.workers import run_in_background
from core.audio.formats import ExportSettings
from core.document.dialogue import Dialogue
from core.errors import DiaStudioError
from core.studio.exporting import ExportChoice, export_dialogue, planned_paths, stem_files, summary
from ui.main_window import MainWindow
from ui.prompts import Prompts


class ExportSession(QObject):
    exported = Signal(list)  # the paths written
    failed = Signal(str)

    def __init__(self, window: MainWindow, document: DocumentSession, settings: Settings,
                 prompts: Callable[[], Prompts], parent: QObject | None = None):
        """``prompts()``: the studio's, asked at the time (tests put their own in)."""
        super().__init__(parent)
        self._window, self._document, self._settings, self._prompts = window, document, settings, prompts

    def export(self, choice: ExportChoice | None = None) -> bool:
        """Ask how (unless ``choice`` is given), then export off the GUI thread."""
        dialogue, window = self._document.dialogue, self._window
        if not any(dialogue.take_for(line.id) for line in dialogue.lines):
            # Said before the dialog asks anything, not as "Export failed" after it.
            window.statusBar().showMessage("Nothing to export yet: generate the dialogue first (F5).", 8000)
            return False
        if choice is None:
            choice = self._prompts().export(self.last_choice(), summary(dialogue),
                                            tuple(window.timeline.selected_line_ids()),
                                            partial(planned_paths, dialogue))
        if choice is None:
            return False
        self._remember(choice)
        title = self._document.name
        window.statusBar().showMessage("Exporting…")

        def done(paths: list[Path]) -> None:
            window.statusBar().showMessage(exported_summary(dialogue, choice, paths), 8000)
            self.exported.emit(paths)

        def failed(error: Exception) -> None:
            window.statusBar().clearMessage()
            self._prompts().error("Export failed", str(error))
            self.failed.emit(str(error))

        run_in_background(lambda: export_dialogue(dialogue, choice, title), done, failed, "export", self)
        return True

    def last_choice(self) -> ExportChoice:
        """What the export dialog offers: the last choice, or the defaults."""
        s = self._settings
        try:
            settings = ExportSettings.create(s.export_format, s.export_sample_rate, s.export_bitrate,
                                             s.export_channels)
        except DiaStudioError:  # WAV/FLAC take no settings; an old value may be out of range
            try:
                settings = ExportSettings.create(s.export_format)
            except DiaStudioError:
                settings = ExportSettings.create()
        folder = Path(s.export_folder or s.project_folder or Path.home())
        path = folder if s.export_per_line else folder / f"{self._document.name}{settings.format.extension}"
        return ExportChoice(settings, path, s.export_per_line, s.export_subtitles, None,
                            stems=s.export_stems and not s.export_per_line)

    def _remember(self, choice: ExportChoice) -> None:
        s = self._settings
        s.export_format = choice.settings.format.value
        if choice.settings.format.lossy:
            s.export_sample_rate = choice.settings.sample_rate
            s.export_bitrate = choice.settings.bitrate_kbps
            s.export_channels = choice.settings.channels
        s.export_per_line = choice.per_line
        s.export_subtitles = choice.subtitles
        if not choice.per_line:  # one file per line has no stems: the choice made for one file stays
            s.export_stems = choice.stems
        s.export_folder = str(choice.path if choice.per_line else choice.path.parent)


def exported_summary(dialogue: Dialogue, choice: ExportChoice, paths: list[Path]) -> str:
    """What the status bar says of an export: its first files, then every speaker's file (stems)."""
    stems = [path for _, path in stem_files(dialogue, choice, dialogue.lines) if path in paths]
    theirs = set(stems) | {path.with_suffix(".srt") for path in stems}
    others = [path.name for path in paths if path not in theirs]
    told = f"Exported {', '.join(others[:3])}" + (" …" if len(others) > 3 else "")
    return told + (f"; stems: {', '.join(path.name for path in stems)}" if stems else "")
