"""The pronunciation lexicon (Edit ▸ Pronunciation lexicon…): the project's entries and the shared
ones (every project's), each a written word or phrase and how it is spoken, edited in the form
below the list; an entry heard in a speaker's voice; lexicons imported from and exported to
.json, .csv and .pls files (or dropped here, or on the window).

Widgets only: the application (``app.lexicon_session``) shows the lexicons and does what is asked.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTabBar,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.document.speakers import Speaker
from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry
from core.lexicon.files import LEXICON_SUFFIXES
from core.lexicon.lexicon import Lexicon

PROJECT, SHARED = "project", "shared"  # which lexicon
INTRO = {
    PROJECT: "How words in this project's lines are read. An entry here wins over a shared one for the same word.",
    SHARED: "Read in every project, unless the project has its own entry for the word.",
}
OVERRIDDEN = QColor("#9a9a9a")
OPEN_FILTER = "Lexicons (*.json *.csv *.pls *.xml);;All files (*)"
# The export's kinds of file, each with the ending a name without one gets.
SAVE_FILTERS = {"Dia Studio lexicon (*.json)": ".json", "Spreadsheet, CSV (*.csv)": ".csv",
                "W3C pronunciation lexicon, PLS (*.pls)": ".pls"}
COLUMNS = ("Written", "Spoken as", "Case-sensitive", "Note")


def dropped_lexicons(data: QMimeData) -> list[str]:
    """The dropped local files whose names end as lexicon files do."""
    return [url.toLocalFile() for url in data.urls()
            if url.isLocalFile() and url.toLocalFile().lower().endswith(LEXICON_SUFFIXES)]


class LexiconDialog(QDialog):
    add_requested = Signal(str, object)  # which lexicon, the LexiconEntry
    change_requested = Signal(str, int, object)  # which lexicon, the entry's row, the LexiconEntry it becomes
    delete_requested = Signal(str, int)  # which lexicon, the entry's row
    hear_requested = Signal(object, object)  # LexiconEntry, Speaker
    import_requested = Signal(str, str)  # which lexicon, the file
    export_requested = Signal(str, str)  # which lexicon, the file

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lexicon")
        self.setWindowTitle("Pronunciation lexicon")
        self.resize(640, 560)
        self.setAcceptDrops(True)
        self._lexicons = {PROJECT: Lexicon(), SHARED: Lexicon()}
        self._overridden: set[int] = set()  # rows of the shared lexicon the project's entries win over
        self._why_not_hear: str | None = None

        self.tabs = QTabBar()
        self.tabs.addTab("&This project")
        self.tabs.addTab("Sha&red, every project")
        self.tabs.currentChanged.connect(lambda _: self._show_list())
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(column, mode)
        self.table.itemSelectionChanged.connect(self._show_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self._delete,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.written = QLineEdit()
        self.written.setPlaceholderText("Nguyen")
        self.spoken = QLineEdit()
        self.spoken.setPlaceholderText("Win")
        self.case_sensitive = QCheckBox("&Case-sensitive")
        self.case_sensitive.setToolTip("Only this exact spelling: a case-sensitive “US” leaves “us” alone")
        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional, for yourself")
        self.add_button = QPushButton("&Add")
        self.add_button.setToolTip("Add the entry written above (Enter)")
        self.add_button.clicked.connect(self._add)
        self.save_button = QPushButton("Sa&ve changes")
        self.save_button.setToolTip("Replace the selected entry with the one written above (Enter)")
        self.save_button.clicked.connect(self._save)
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setToolTip("Delete the selected entry (Delete in the list)")
        self.delete_button.clicked.connect(self._delete)
        self.new_button = QPushButton("&New entry")
        self.new_button.setToolTip("Clear the form to write a new entry")
        self.new_button.clicked.connect(self.new_entry)
        form = QFormLayout()
        form.addRow("&Written:", self.written)
        form.addRow("&Spoken as:", self.spoken)
        form.addRow("N&ote:", self.note)
        form.addRow("", self.case_sensitive)
        entry_buttons = QHBoxLayout()
        for button in (self.new_button, self.add_button, self.save_button, self.delete_button):
            entry_buttons.addWidget(button)
        entry_buttons.addStretch(1)
        self.entry_box = entry_box = QGroupBox()
        entry_layout = QVBoxLayout(entry_box)
        entry_layout.addLayout(form)
        entry_layout.addLayout(entry_buttons)

        self.speaker = QComboBox()
        self.speaker.setToolTip("Whose voice says the entry")
        self.hear_button = QPushButton("&Hear")
        self.hear_button.setToolTip("Hear how the selected entry is spoken (a short generation)")
        self.hear_button.clicked.connect(self._hear)
        self.hear_state = QLabel()
        self.hear_state.setWordWrap(True)
        hear_row = QHBoxLayout()
        hear_row.addWidget(QLabel("In the voice of"))
        hear_row.addWidget(self.speaker)
        hear_row.addWidget(self.hear_button)
        hear_row.addWidget(self.hear_state, 1)

        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        self.import_button = QPushButton("&Import…")
        self.import_button.setToolTip("Add the entries of a .json, .csv or .pls file (or drop the file here)")
        self.import_button.clicked.connect(self._import)
        self.export_button = QPushButton("&Export…")
        self.export_button.setToolTip("Write this lexicon as a .json, .csv or .pls file")
        self.export_button.clicked.connect(self._export)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(entry_box)
        layout.addLayout(hear_row)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)
        # Only once the widgets are the dialog's: Qt orders the focus within a window.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)  # Enter is the form's (Add or Save changes), wherever the focus is
        for before, after in zip((self.written, self.spoken, self.note, self.case_sensitive, self.new_button,
                                  self.add_button, self.save_button),
                                 (self.spoken, self.note, self.case_sensitive, self.new_button, self.add_button,
                                  self.save_button, self.delete_button)):
            QWidget.setTabOrder(before, after)
        self._show_list()

    # --- what the application shows -----------------------------------------------------------

    @property
    def scope(self) -> str:
        """The lexicon shown: PROJECT or SHARED."""
        return SHARED if self.tabs.currentIndex() == 1 else PROJECT

    def show_scope(self, scope: str) -> None:
        self.tabs.setCurrentIndex(1 if scope == SHARED else 0)

    def set_lexicons(self, project: Lexicon, shared: Lexicon, select: tuple[str, int] | None = None) -> None:
        """Show these lexicons; ``select``: (which lexicon, row) to select, else the row selected
        stays while it is there."""
        row = self.selected_row()
        self._lexicons = {PROJECT: project, SHARED: shared}
        kept = {id(entry) for entry in Lexicon.merged(project, shared).entries[len(project.entries):]}
        self._overridden = {index for index, entry in enumerate(shared.entries) if id(entry) not in kept}
        self.tabs.setTabText(0, f"&This project ({len(project.entries)})")
        self.tabs.setTabText(1, f"Sha&red, every project ({len(shared.entries)})")
        if select is not None:
            self.show_scope(select[0])
            row = select[1]
        self._show_list(row)

    def set_speakers(self, names: dict[Speaker, str]) -> None:
        chosen = self.speaker.currentData() or Speaker.S1
        self.speaker.clear()
        for speaker, name in names.items():
            self.speaker.addItem(f"{name} ({speaker.value})", speaker)
        self.speaker.setCurrentIndex(self.speaker.findData(chosen))

    def set_hearing(self, why_not: str | None) -> None:
        """Whether an entry can be heard now (``why_not`` says why not: no model, a generation runs)."""
        self._why_not_hear = why_not
        self.hear_state.setText(why_not or "")
        self._enable()

    def show_message(self, text: str, error: bool = True) -> None:
        """Say what went wrong, or, with ``error`` False, what was done (and what an import left out)."""
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #c62828;" if error else "color: palette(text);")
        self.message_label.setVisible(bool(text))

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected_entry(self) -> LexiconEntry | None:
        row = self.selected_row()
        return None if row is None else self._lexicons[self.scope].entries[row]

    def form_entry(self) -> LexiconEntry:
        """The entry written in the form; raises InvalidLexiconEntry saying what is wrong."""
        return LexiconEntry(self.written.text(), self.spoken.text(), self.case_sensitive.isChecked(),
                            self.note.text().strip())

    # --- the list and the form ----------------------------------------------------------------

    def _show_list(self, row: int | None = None) -> None:
        scope = self.scope
        overridden = " Greyed: this project has its own entry for the word, which wins." if (
            scope == SHARED and self._overridden) else ""
        self.intro.setText(INTRO[scope] + overridden)
        entries = self._lexicons[scope].entries
        self.table.blockSignals(True)
        self.table.setRowCount(len(entries))
        for index, entry in enumerate(entries):
            cells = (entry.written, entry.spoken, "yes" if entry.case_sensitive else "", entry.note)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if scope == SHARED and index in self._overridden:
                    item.setForeground(OVERRIDDEN)
                    item.setToolTip("This project has its own entry for this word, which wins here.")
                elif column == 3 and text:
                    item.setToolTip(text)
                self.table.setItem(index, column, item)
        self.table.clearSelection()
        self.table.blockSignals(False)
        if row is not None and 0 <= row < len(entries):
            self.table.selectRow(row)
        else:
            self._show_selected()

    def _show_selected(self) -> None:
        """The form shows the entry selected, to change it; with none selected it is for a new one."""
        entry = self.selected_entry()
        if entry is not None:
            self.written.setText(entry.written)
            self.spoken.setText(entry.spoken)
            self.case_sensitive.setChecked(entry.case_sensitive)
            self.note.setText(entry.note)
        self._enable()

    def _enable(self) -> None:
        selected = self.selected_row() is not None
        self.entry_box.setTitle("Selected entry" if selected else "New entry")
        self.add_button.setEnabled(not selected)
        self.add_button.setDefault(not selected)  # Enter in the form adds the new entry, or saves the one selected
        self.save_button.setEnabled(selected)
        self.save_button.setDefault(selected)
        self.delete_button.setEnabled(selected)
        self.hear_button.setEnabled(selected and not self._why_not_hear)
        self.export_button.setEnabled(bool(self._lexicons[self.scope].entries))

    def new_entry(self) -> None:
        """An empty form for a new entry, its first field ready for typing."""
        self.table.clearSelection()
        for field in (self.written, self.spoken, self.note):
            field.clear()
        self.case_sensitive.setChecked(False)
        self.written.setFocus()

    def _checked_form(self) -> LexiconEntry | None:
        try:
            return self.form_entry()
        except InvalidLexiconEntry as error:
            self.show_message(str(error))
            return None

    def _add(self) -> None:
        entry = self._checked_form()
        if entry is not None:
            self.add_requested.emit(self.scope, entry)

    def _save(self) -> None:
        row = self.selected_row()
        entry = self._checked_form() if row is not None else None
        if entry is not None:
            self.change_requested.emit(self.scope, row, entry)

    def _delete(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.delete_requested.emit(self.scope, row)

    def _hear(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.hear_requested.emit(entry, self.speaker.currentData() or Speaker.S1)

    # --- files --------------------------------------------------------------------------------

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a lexicon", str(Path.home()), OPEN_FILTER)
        if path:
            self.import_requested.emit(self.scope, path)

    def _export(self) -> None:
        name = "lexicon" if self.scope == PROJECT else "shared-lexicon"
        path, chosen = QFileDialog.getSaveFileName(self, "Export the lexicon", str(Path.home() / f"{name}.json"),
                                                   ";;".join(SAVE_FILTERS))
        if path:
            if not path.lower().endswith(LEXICON_SUFFIXES):
                path += SAVE_FILTERS.get(chosen, ".json")
            self.export_requested.emit(self.scope, path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_lexicons(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_lexicons(event.mimeData())
        if paths:
            event.acceptProposedAction()
            for path in paths:
                self.import_requested.emit(self.scope, path)
