"""The dialogue timeline: one row per line, text edited in place like a document.

In a line's editor (the whole text, wrapped), Enter splits the line at the cursor, Backspace at
its start joins it to the line above, and Up/Down move through its rows, then to the neighbouring
line. Every keystroke goes to the document at once (typing in one line is one undo step there),
so Ctrl+Z undoes through the document, never through the editor's own history. A speaker tag
typed or pasted into a line starts that speaker's line; what the document refuses is taken back
out of the editor, with a message saying why.

The view (this module) carries out what the window's actions and the editor's keys ask for; the
cells' editors and their painting are the delegate's (timeline_delegate), the rows the model's
(timeline_model).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHeaderView, QStyledItemDelegate, QStyleOptionViewItem,
                               QTableView, QToolTip, QWidget)

from core.document.dialogue import Dialogue
from core.document.errors import DialogueError
from core.document.markup import insert_markup
from core.document.speakers import Speaker
from ui.line_editor import LineEditor
from ui.timeline_delegate import LineDelegate
from ui.timeline_model import FLAG_ROLE, SPOKEN_WORD_ROLE, STATUS_TEXT, Column, TimelineModel

# The columns as wide as their content; the status column is as wide as its widest word from the
# start ("generating…" never shifts the lines), and the line's text takes the rest.
FITTED_COLUMNS = (Column.SPEAKER, Column.LENGTH)
STATUS_PADDING = 8  # px each side of the status word
EMPTY_HINT = "No lines yet. Start typing to write the first line (or press Enter)."


class TimelineView(QTableView):
    """The table of lines. The window's actions call the methods below; so do the tests."""

    notice = Signal(str)  # why an edit was refused, for the status bar
    line_typed = Signal(str)  # line id: the person changed its text in its editor (the document has it)
    line_left = Signal(str)  # line id: its editor closed (another line, Enter, a click elsewhere)
    flag_play_requested = Signal(str, float)  # a flagged line's status double-clicked: take id, seconds into it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline")
        self._delegate = LineDelegate(self)
        self._row_of_line_gone: int | None = None  # where the current line was, as an undo took it
        self.setItemDelegate(self._delegate)
        self._delegate.text_edited.connect(self._enter_text)
        self.doubleClicked.connect(self._hear_flag)
        self._delegate.editor_height_changed.connect(self._fit_editor_row)
        self._delegate.split_requested.connect(self._split)
        self._delegate.join_requested.connect(self._join_with_previous)
        self._delegate.step_requested.connect(self._step)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Typing on a line appends to it (keyPressEvent): Qt's AnyKeyPressed would replace its text.
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        # DragDrop rather than InternalMove: the model accepts only its own lines' ids anyway, and
        # InternalMove refuses any drop whose source is not this very view (tests included).
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setTabKeyNavigation(False)
        # Rows and the narrow columns fit their content, measured only where it changed (_fit):
        # the headers' ResizeToContents measured every row, wrapping every text, at each keystroke.
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setMinimumSectionSize(30)  # room to read, and to aim a drop between rows
        # Once the widths have settled: measured as the header's section changes, a row took the
        # width it had before (tall after a narrowing had been undone, short while narrow).
        self._refit_rows = QTimer(self, singleShot=True, interval=0)
        self._refit_rows.timeout.connect(self.resizeRowsToContents)
        self.horizontalHeader().sectionResized.connect(self._refit_rows.start)

    def set_dialogue(self, dialogue: Dialogue) -> None:
        old = self.model()
        if isinstance(old, TimelineModel):
            old.detach()
        model = TimelineModel(dialogue, self)
        self.setModel(model)
        if old is not None:
            old.deleteLater()
        model.dataChanged.connect(self._fit)
        model.layoutAboutToBeChanged.connect(self._before_lines_change)
        model.layoutChanged.connect(self._after_lines_change)
        model.layoutChanged.connect(self._fit_all)
        header = self.horizontalHeader()
        for column in FITTED_COLUMNS:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(Column.TEXT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.STATUS, QHeaderView.ResizeMode.Fixed)
        self.setColumnWidth(Column.STATUS, max(self.fontMetrics().horizontalAdvance(text)
                                               for text in STATUS_TEXT.values()) + 2 * STATUS_PADDING)
        self._fit_all()
        if dialogue.lines:
            self.select_line(dialogue.lines[0].id)

    @property
    def timeline(self) -> TimelineModel:
        return self.model()

    @property
    def dialogue(self) -> Dialogue:
        return self.timeline.dialogue

    # --- row heights ----------------------------------------------------------------------------

    def sizeHintForRow(self, row: int) -> int:
        # A row is never taller than the view, so its speaker and status stay in sight; the rest
        # of a very long line is read in its editor, which scrolls.
        most = self.viewport().height()
        editor = self._open_editor()
        if editor is not None and editor.property("line_id") == self.timeline.line_id(row):
            # What is shown while typing (and quicker than wrapping the text once more).
            editor.show_scroll_bar(editor.text_height() > most)
            needed = editor.text_height()
        else:
            needed = super().sizeHintForRow(row)
        return max(self.verticalHeader().minimumSectionSize(), min(needed, most))

    def _fit(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        if roles == [SPOKEN_WORD_ROLE]:
            return  # the word being heard is painted over the text: no size changes
        rows = range(top.row(), bottom.row() + 1)
        for column in FITTED_COLUMNS:
            if len(rows) > 1:
                self.resizeColumnToContents(column)
            else:  # a line edited: its cell may need more room, the others are as they were
                needed = self.sizeHintForIndex(self.timeline.index(top.row(), column)).width() + self.showGrid()
                if needed > self.columnWidth(column):
                    self.setColumnWidth(column, needed)
        for row in rows:
            self.resizeRowToContents(row)

    def _fit_editor_row(self, editor: LineEditor) -> None:
        model = self.timeline
        for row in range(model.rowCount()):
            if model.line_id(row) == editor.property("line_id"):  # none when the line is gone
                self.resizeRowToContents(row)

    def _fit_all(self) -> None:
        for column in FITTED_COLUMNS:
            self.resizeColumnToContents(column)
        self.resizeRowsToContents()

    def resizeEvent(self, event) -> None:
        height = self.viewport().height()
        super().resizeEvent(event)
        if self.viewport().height() != height and self.model() is not None:
            # The most a row may take changed (a new width reaches the rows through sectionResized).
            self.resizeRowsToContents()

    # --- where the person is -----------------------------------------------------------------

    def spoken_word_rects(self) -> list[QRectF]:
        """Where the word being heard is highlighted, in the viewport (empty when none is)."""
        model = self.timeline
        line_id, word = model.speaking
        rows = [row for row in range(model.rowCount()) if model.line_id(row) == line_id]
        if word is None or not rows:
            return []
        index = model.index(rows[0], Column.TEXT)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return self._delegate.text_rects(option, index, *word)

    def current_line_id(self) -> str | None:
        index = self.currentIndex()
        return self.timeline.line_id(index.row()) if index.isValid() else None

    def _hear_flag(self, index) -> None:
        flag = index.data(FLAG_ROLE) if index.column() == Column.STATUS else None
        if flag is not None:
            self.flag_play_requested.emit(*flag)

    def selected_line_ids(self) -> list[str]:
        """The selected lines in dialogue order (the current line when nothing is selected)."""
        rows = sorted({index.row() for index in self.selectionModel().selectedRows()})
        ids = [self.timeline.line_id(row) for row in rows]
        current = self.current_line_id()
        return ids or ([current] if current else [])

    def select_line(self, line_id: str, column: Column = Column.TEXT) -> None:
        index = self.timeline.index(self.timeline.row_of(line_id), column)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index)

    def edit_line(self, line_id: str, cursor: int | None = None) -> LineEditor:
        """Open the text editor of a line, the cursor at ``cursor`` (default: the end)."""
        self.select_line(line_id)
        self.edit(self.currentIndex())
        editor = self._open_editor()
        if cursor is not None:
            editor.setCursorPosition(cursor)
        return editor

    def edit(self, index: QModelIndex, trigger=QAbstractItemView.EditTrigger.AllEditTriggers, event=None) -> bool:
        opened = super().edit(index, trigger, event)
        editor = self._open_editor() if opened else None
        if editor is not None:
            editor.setCursorPosition(len(editor.text()))  # never all selected: a keystroke would wipe it
        return opened

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = self.current_line_id()
        if self.state() != QAbstractItemView.State.EditingState and (current is not None or not self.dialogue.lines):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
                self._edit_current_or_first_line()
                return
            typed = event.text()
            if event.matches(QKeySequence.StandardKey.Paste):
                typed = QApplication.clipboard().text()
                typed = (" " if typed and not typed[0].isspace() else "") + typed  # after what the line has
            elif not (typed.isprintable() and typed.strip()) or event.modifiers() & ~(
                    Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier):
                typed = ""
            if typed:
                editor = self._edit_current_or_first_line()
                editor.insert(typed if editor.text().strip() else typed.lstrip())  # to the document, as typed
                return
        super().keyPressEvent(event)

    def _edit_current_or_first_line(self) -> LineEditor:
        """The current line's editor; in an empty dialogue, typing writes its first line."""
        current = self.current_line_id()
        if current is not None:
            return self.edit_line(current)
        self.add_line()
        return self._open_editor()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.model() is not None and not self.dialogue.lines:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                             EMPTY_HINT)

    def _open_editor(self) -> LineEditor | None:
        """The line editor now open, if any (a closed one lingers hidden until it is deleted)."""
        return next((editor for editor in self.viewport().findChildren(LineEditor) if editor.isVisible()), None)

    def insert_at_cursor(self, markup: str) -> None:
        """Put ``markup`` (a cue, a pause) at the text cursor, the editor staying open with the
        cursor after it; or at the end of the current line."""
        editor = self._open_editor()
        if editor is not None:
            if editor.hasSelectedText():
                editor.textCursor().removeSelectedText()  # the cue replaces the selection, as typing would
            text, cursor = insert_markup(editor.text(), editor.cursorPosition(), markup)
            editor.setText(text)
            editor.setCursorPosition(cursor)
            # An undo step of its own, apart from the typing before and after it (one Ctrl+Z took
            # a pause and the word typed after it).
            self.dialogue.undo_stack.seal()
            self._enter_text(editor)
            self.dialogue.undo_stack.seal()
            return
        line_id = self.current_line_id()
        if line_id is None:
            return
        current = self.dialogue.line(line_id).text.rstrip()
        self.dialogue.set_text(line_id, insert_markup(current, len(current), markup)[0])
        self.dialogue.undo_stack.seal()

    def _enter_text(self, editor: LineEditor) -> None:
        """The editor's text goes to the document; the editor then shows what the document made of
        it (a tag starts a line: the editor moves there) or, if it was refused, the text before."""
        line_id = editor.property("line_id")
        try:
            where = self.dialogue.enter_text(line_id, editor.text(), editor.cursorPosition())
        except DialogueError as error:
            text = self.dialogue.line(line_id).text
            cursor = editor.cursorPosition() - (len(editor.text()) - len(text))
            editor.setText(text)
            editor.setCursorPosition(max(0, cursor))
            QToolTip.showText(editor.viewport().mapToGlobal(editor.cursorRect().bottomLeft()), str(error), editor)
            self.notice.emit(str(error))
            return
        self.line_typed.emit(line_id)
        text = self.dialogue.line(line_id).text
        if editor.text() != text:
            editor.setText(text)
        if where[0] == line_id:
            editor.setCursorPosition(where[1])
        else:
            self._close_editor()
            self.edit_line(*where)

    # --- line commands (the window's actions) ---------------------------------------------------

    def add_line(self, above: bool = False) -> None:
        """A new line below (or above) the current one, spoken by the other speaker, ready to type."""
        self._close_editor()
        current = self.current_line_id()
        if current is None:
            index = len(self.dialogue.lines)
        else:
            index = self.dialogue.index_of(current) + (0 if above else 1)
        line = self.dialogue.insert_line(index)
        self.edit_line(line.id)

    def duplicate_current(self) -> None:
        current = self.current_line_id()
        if current is not None:
            self._close_editor()
            self.select_line(self.dialogue.duplicate_line(current).id)

    def delete_selected(self) -> None:
        doomed = self.selected_line_ids()
        if not doomed:
            return
        self._close_editor()
        lines = self.dialogue.lines
        after = self.dialogue.index_of(doomed[-1]) + 1
        survivors = [line.id for line in lines[after:] if line.id not in doomed] + \
                    [line.id for line in reversed(lines[:after]) if line.id not in doomed]
        self.dialogue.delete_lines(doomed)
        if survivors:
            self.select_line(survivors[0])

    def move_current(self, step: int) -> None:
        current = self.current_line_id()
        if current is None:
            return
        target = self.dialogue.index_of(current) + step
        if 0 <= target < len(self.dialogue.lines):
            self._close_editor()
            self.dialogue.move_line(current, target)
            self.select_line(current)

    def join_current_with_next(self) -> None:
        current = self.current_line_id()
        if current is not None and self.dialogue.index_of(current) + 1 < len(self.dialogue.lines):
            self._close_editor()
            self.select_line(self.dialogue.merge_with_next(current).id)

    def set_speaker_of_current(self, speaker: Speaker) -> None:
        current = self.current_line_id()
        if current is not None:
            self.dialogue.set_speaker(current, speaker)

    # --- line keys -----------------------------------------------------------------------------

    def _close_editor(self) -> None:
        editor = self._open_editor()
        if editor is not None:
            self._delegate.commitData.emit(editor)
            self._delegate.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)

    def _split(self, line_id: str, position: int) -> None:
        self._close_editor()
        new_line = self.dialogue.split_line(line_id, position)
        # Split at the very start, the new empty line goes above and the cursor stays put.
        below = self.dialogue.index_of(new_line.id) > self.dialogue.index_of(line_id)
        self.edit_line(new_line.id if below else line_id, 0)

    def _join_with_previous(self, line_id: str) -> None:
        index = self.dialogue.index_of(line_id)
        if index == 0:
            return
        above = self.dialogue.lines[index - 1]
        self._close_editor()
        joint = len(above.text.rstrip())
        merged = self.dialogue.merge_with_next(above.id)
        self.edit_line(merged.id, joint + (1 if joint and len(merged.text) > joint else 0))

    def _step(self, line_id: str, direction: int) -> None:
        row = self.dialogue.index_of(line_id) + direction
        if 0 <= row < len(self.dialogue.lines):
            self._close_editor()
            self.edit_line(self.dialogue.lines[row].id)

    def closeEditor(self, editor: QWidget, hint) -> None:
        # However it closes (a key, a click on another line): the next keystroke in any line starts
        # a new undo step, and the row is sized for its text as shown, no longer as edited.
        super().closeEditor(editor, hint)
        self.dialogue.undo_stack.seal()
        if isinstance(editor, LineEditor) and self._has_line(editor.property("line_id")):
            self._fit_editor_row(editor)
            self.line_left.emit(editor.property("line_id"))

    # --- the document changed under an open editor (an undo, a redo) ----------------------------

    def _has_line(self, line_id: str) -> bool:
        return any(line.id == line_id for line in self.dialogue.lines)

    def _before_lines_change(self) -> None:
        """The rows are about to change (the document already has). An editor whose line is gone (a
        split or an added line undone) closes while its row is still the view's, its text going
        nowhere: left open, the view would stay in its editing state, deaf to every key."""
        current = self.current_line_id()
        self._row_of_line_gone = self.currentIndex().row() if current and not self._has_line(current) else None
        editor = self._open_editor()
        if editor is not None and not self._has_line(editor.property("line_id")):
            self.closeEditor(editor, QStyledItemDelegate.EndEditHint.NoHint)

    def _after_lines_change(self) -> None:
        """The current line gone, the line above where it was becomes current, so typing goes on."""
        lines = self.dialogue.lines
        if self._row_of_line_gone is not None and lines:
            self.select_line(lines[max(0, min(self._row_of_line_gone, len(lines)) - 1)].id)
        self._row_of_line_gone = None
