"""The editor of a line's text in the timeline: the whole text, wrapped, scrolling when it is
taller than its row, with the handful of line-edit calls the timeline needs."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QTextCursor
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QWidget


class LineEditor(QPlainTextEdit):
    text_edited = Signal()  # the person changed the text (not setText)
    text_height_changed = Signal()  # the wrapped text took a row more or less

    def __init__(self, parent: QWidget | None = None, text_margin: int = 0):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Laid out like the cell's text (its side margins, so it wraps where the cell does).
        self.document().setDocumentMargin(text_margin)
        self.setBackgroundRole(QPalette.ColorRole.Base)  # the margins too: the cell must not show through
        self.setAutoFillBackground(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.setUndoRedoEnabled(False)  # the document's undo serves the line too
        self._setting = False
        self.textChanged.connect(lambda: None if self._setting else self.text_edited.emit())
        self._rewrapping = False
        self.document().documentLayout().documentSizeChanged.connect(
            lambda: None if self._rewrapping else self.text_height_changed.emit())

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self._setting = True
        try:
            self.setPlainText(text)
        finally:
            self._setting = False

    def cursorPosition(self) -> int:
        return self.textCursor().position()

    def setCursorPosition(self, position: int) -> None:
        """Put the cursor there, nothing selected, and scroll it into sight."""
        cursor = self.textCursor()
        cursor.setPosition(min(position, len(self.text())))
        self.setTextCursor(cursor)

    def hasSelectedText(self) -> bool:
        return self.textCursor().hasSelection()

    def insert(self, text: str) -> None:
        """Type ``text`` at the cursor, over the selection."""
        self.insertPlainText(text)

    def text_height(self) -> int:
        """How tall the wrapped text is, in pixels, at the editor's width."""
        height, block = 0.0, self.document().firstBlock()
        while block.isValid():
            height += self.blockBoundingRect(block).height()
            block = block.next()
        return math.ceil(height + 2 * self.document().documentMargin()) + 2 * self.frameWidth()

    def show_scroll_bar(self, shown: bool) -> None:
        """A scroll bar only where the row cannot grow: one that came and went would re-wrap the text."""
        policy = Qt.ScrollBarPolicy.ScrollBarAlwaysOn if shown else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        if policy != self.verticalScrollBarPolicy():
            self.setVerticalScrollBarPolicy(policy)
            # Wrap again at the new width (QPlainTextEdit does only when it is resized itself);
            # whoever shows the bar sizes the editor for it.
            self._rewrapping = True
            try:
                self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
                self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
            finally:
                self._rewrapping = False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.text_height_changed.emit()  # wrapped anew
        self.ensureCursorVisible()  # the row grew or shrank around the text being typed

    def on_first_row(self) -> bool:
        """The cursor is on the top row of the wrapped text (Up leaves the line)."""
        return not QTextCursor(self.textCursor()).movePosition(QTextCursor.MoveOperation.Up)

    def on_last_row(self) -> bool:
        return not QTextCursor(self.textCursor()).movePosition(QTextCursor.MoveOperation.Down)
