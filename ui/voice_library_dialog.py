"""The voice library, opened from a speaker's card: the saved voices by name, what each says and
where it came from; hear one, give it to the speaker, or delete it (after a question). A voice goes
to another studio as one file: Export voice… writes the selected one as a ``.diavoice``; Import
voice…, or ``.diavoice`` files dropped on the dialog, bring voices in.

Widgets only: the application lists the library (``set_listing``) and does what is asked.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox,
                               QPushButton, QVBoxLayout, QWidget)

from core.document.speakers import Speaker
from core.voice_library import DamagedVoice, LibraryListing, LibraryVoice
from core.voice_package import PACKAGE_SUFFIX

EMPTY_TEXT = ("No voice saved yet. Give a speaker a voice, then press “Save to library…” on its card, "
              "or import a voice (.diavoice).")
DAMAGED = QColor("#9a9a9a")
PACKAGE_FILTER = f"Dia Studio voices (*{PACKAGE_SUFFIX});;All files (*)"
_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')  # what no system's file names may hold


def dropped_packages(data: QMimeData) -> list[str]:
    """The dropped local files that are voice packages."""
    return [url.toLocalFile() for url in data.urls()
            if url.isLocalFile() and url.toLocalFile().lower().endswith(PACKAGE_SUFFIX)]


class VoiceLibraryDialog(QDialog):
    use_requested = Signal(object, object)  # Speaker, LibraryVoice
    play_requested = Signal(object)  # LibraryVoice
    delete_requested = Signal(str)  # the id of a saved (or damaged) voice, once confirmed
    export_requested = Signal(object, str)  # LibraryVoice, the .diavoice file to write
    import_requested = Signal(list)  # the .diavoice files to import

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("voice_library")
        self.setWindowTitle("Voice library")
        self.resize(460, 360)
        self.setAcceptDrops(True)
        self.speaker = Speaker.S1
        self.confirm_box: QMessageBox | None = None

        self.voice_list = QListWidget()
        self.voice_list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.voice_list.itemActivated.connect(lambda item: self._use())
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(lambda: self.play_requested.emit(self.selected()))
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self._confirm_delete)
        self.use_button = QPushButton("Use")
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(self._use)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.reject)
        self.export_button = QPushButton("&Export voice…")
        self.export_button.setToolTip("Write the selected voice as one .diavoice file, for another studio "
                                      "or the command line (--s1 voice.diavoice)")
        self.export_button.clicked.connect(self._export)
        self.import_button = QPushButton("&Import voice…")
        self.import_button.setToolTip("Add voices from .diavoice files (or drop the files here)")
        self.import_button.clicked.connect(self._import)

        files = QHBoxLayout()
        files.addWidget(self.export_button)
        files.addWidget(self.import_button)
        files.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.voice_list, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.message_label)
        layout.addLayout(files)
        layout.addLayout(buttons)

    def show_for(self, speaker: Speaker, speaker_name: str, listing: LibraryListing) -> None:
        """Open (window-modal, without blocking) to pick a voice for ``speaker``."""
        self.speaker = speaker
        self.use_button.setText(f"Use for {speaker_name}")
        self.show_message("")
        self.set_listing(listing)
        self.open()

    def set_listing(self, listing: LibraryListing, select: str | None = None) -> None:
        """Show these entries, selecting the one whose id is ``select`` (by default the one
        selected, while it is there)."""
        chosen = self.selected()
        chosen_id = select or (chosen.id if chosen is not None else None)
        self.voice_list.clear()
        for voice in listing.voices:
            item = QListWidgetItem(f"{voice.name}   ({voice.duration_s:.1f} s)")
            item.setData(Qt.ItemDataRole.UserRole, voice)
            item.setToolTip(voice.transcript)
            self.voice_list.addItem(item)
        for damaged in listing.damaged:
            item = QListWidgetItem(f"Damaged: {damaged.id}")
            item.setData(Qt.ItemDataRole.UserRole, damaged)
            item.setForeground(DAMAGED)
            item.setToolTip(damaged.problem)
            self.voice_list.addItem(item)
        rows = [self.voice_list.item(row).data(Qt.ItemDataRole.UserRole).id for row in range(self.voice_list.count())]
        if rows:
            self.voice_list.setCurrentRow(rows.index(chosen_id) if chosen_id in rows else 0)
        self._show_selected()

    def selected(self) -> LibraryVoice | DamagedVoice | None:
        item = self.voice_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def show_message(self, text: str, error: bool = True) -> None:
        """Say what went wrong (reading, playing, deleting, importing or exporting a voice), or,
        with ``error`` False, what was done."""
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #c62828;" if error else "color: palette(text);")
        self.message_label.setVisible(bool(text))

    def _show_selected(self) -> None:
        entry = self.selected()
        usable = isinstance(entry, LibraryVoice)
        if entry is None:
            self.details.setText(EMPTY_TEXT)
        elif usable:
            saved = entry.created.astimezone().strftime("%Y-%m-%d %H:%M")
            origin = f"From {entry.source}, saved {saved}." if entry.source else f"Saved {saved}."
            self.details.setText(f"“{entry.transcript}”\n{origin}" if entry.transcript else origin)
        else:
            self.details.setText(f"{entry.problem} Delete it, or repair its folder in the library.")
        self.play_button.setEnabled(usable)
        self.use_button.setEnabled(usable)
        self.export_button.setEnabled(usable)
        self.delete_button.setEnabled(entry is not None)

    def _use(self) -> None:
        entry = self.selected()
        if isinstance(entry, LibraryVoice):
            self.use_requested.emit(self.speaker, entry)
            self.accept()

    def _confirm_delete(self) -> None:
        entry = self.selected()
        what = f"“{entry.name}”" if isinstance(entry, LibraryVoice) else "this damaged entry"
        box = QMessageBox(QMessageBox.Icon.Question, "Delete a saved voice",
                          f"Delete {what} from the voice library? Projects that use it keep their own copy.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self._deleted_if_yes(box, button, entry.id))
        self.confirm_box = box
        box.open()

    def _deleted_if_yes(self, box: QMessageBox, button, voice_id: str) -> None:
        self.confirm_box = None
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(voice_id)

    def _export(self) -> None:
        entry = self.selected()
        if not isinstance(entry, LibraryVoice):
            return
        file_name = _NOT_IN_FILE_NAMES.sub("-", entry.name).strip(" .") or "voice"
        path, _ = QFileDialog.getSaveFileName(self, f"Export “{entry.name}”",
                                              str(Path.home() / f"{file_name}{PACKAGE_SUFFIX}"), PACKAGE_FILTER)
        if path:
            if not path.lower().endswith(PACKAGE_SUFFIX):
                path += PACKAGE_SUFFIX
            self.export_requested.emit(entry, path)

    def _import(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import voices", str(Path.home()), PACKAGE_FILTER)
        if paths:
            self.import_requested.emit(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_packages(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_packages(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_requested.emit(paths)
