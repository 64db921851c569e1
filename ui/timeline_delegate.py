"""A line's cells in the timeline: the delegate that edits and paints them.

It opens a choice for the speaker and a line editor for the text, and turns the editor's line keys
(Enter, Backspace at the start, Up/Down past the first or last row) into requests the view carries
out; Undo/Redo, and Esc while the window can stop something, are left to the window. Over the text
it paints the word being heard.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QPainter, QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from core.document.speakers import Speaker
from ui.line_editor import LineEditor
from ui.timeline_model import SPEAKER_ROLE, SPOKEN_WORD_ROLE, Column, TimelineModel

# Laid over the text, translucent: the text is drawn as always, so nothing moves as words change.
SPOKEN_WORD = QColor(255, 160, 0, 110)


class LineDelegate(QStyledItemDelegate):
    """Editors for a line's speaker (a choice) and text (a line editor with document keys)."""

    text_edited = Signal(LineEditor)  # a line's editor, after each keystroke or paste in it
    editor_height_changed = Signal(LineEditor)  # its text wraps onto more or fewer rows
    split_requested = Signal(str, int)  # line id, cursor position
    join_requested = Signal(str)  # line id: join it to the line above
    step_requested = Signal(str, int)  # line id, -1 (up) or +1 (down)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        word = index.data(SPOKEN_WORD_ROLE)
        if word is None:
            return
        painter.save()
        painter.setClipRect(option.rect)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SPOKEN_WORD)
        for rect in self.text_rects(option, index, *word):
            painter.drawRoundedRect(rect.adjusted(-2, 0, 2, 0), 3, 3)
        painter.restore()

    def text_rects(self, option: QStyleOptionViewItem, index: QModelIndex, start: int, end: int) -> list[QRectF]:
        """Where characters ``start`` to ``end`` of the cell's text are drawn: one rectangle per
        line of the wrapped text they are on, laid out as the style lays out an item's text."""
        option = QStyleOptionViewItem(option)
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        area = QRectF(style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, widget)
                      ).adjusted(margin, 0, -margin, 0)
        layout = QTextLayout(option.text, option.font)
        text_option = QTextOption()
        text_option.setTextDirection(option.direction)
        text_option.setWrapMode(QTextOption.WrapMode.WordWrap if option.features
                                & QStyleOptionViewItem.ViewItemFeature.WrapText else QTextOption.WrapMode.ManualWrap)
        layout.setTextOption(text_option)
        lines, height = [], 0.0
        layout.beginLayout()
        while (line := layout.createLine()).isValid():
            line.setLineWidth(area.width())
            line.setPosition(QPointF(0, height))
            height += line.height()
            lines.append(line)
        layout.endLayout()
        top = area.top() + (area.height() - height) / 2  # the text column is centred vertically
        rects = []
        for line in lines:
            first, last = max(start, line.textStart()), min(end, line.textStart() + line.textLength())
            if first < last:
                left, right = sorted((line.cursorToX(first)[0], line.cursorToX(last)[0]))
                rects.append(QRectF(area.left() + left, top + line.y(), right - left, line.height()))
        return rects

    def createEditor(self, parent: QWidget, option, index: QModelIndex) -> QWidget:
        model: TimelineModel = index.model()
        if index.column() == Column.SPEAKER:
            choice = QComboBox(parent)
            for speaker in Speaker:
                choice.addItem(model.dialogue.speakers[speaker].name, speaker)
            choice.activated.connect(lambda: self.commitData.emit(choice))
            return choice
        style = option.widget.style() if option.widget else QApplication.style()
        editor = LineEditor(parent, style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, option.widget) + 1)
        editor.setProperty("line_id", model.line_id(index.row()))
        editor.text_edited.connect(lambda: self.text_edited.emit(editor))
        editor.text_height_changed.connect(lambda: self.editor_height_changed.emit(editor))
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(editor.findData(index.data(SPEAKER_ROLE)))
        elif editor.text() != index.data(Qt.ItemDataRole.EditRole):  # keep the cursor while typing
            # The document changed it (an undo, a redo): the cursor goes to the end, as on opening.
            editor.setText(index.data(Qt.ItemDataRole.EditRole))
            editor.setCursorPosition(len(editor.text()))

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData())
        else:
            model.setData(index, editor.text())

    def eventFilter(self, editor: QObject, event: QEvent) -> bool:
        if isinstance(editor, LineEditor):
            if event.type() == QEvent.Type.FocusOut and event.reason() in (
                    Qt.FocusReason.PopupFocusReason, Qt.FocusReason.ActiveWindowFocusReason):
                return False  # a menu or dialog (the Cue menu, the Pause dialog) opened: keep editing
            if event.type() == QEvent.Type.ShortcutOverride and (
                    _is_undo_or_redo(event) or _window_takes_escape(editor, event)):
                event.ignore()  # let the window's Undo/Redo (the document's), or its Esc, take the keys
                return True
            if event.type() == QEvent.Type.KeyPress and self._line_key(editor, event):
                return True
        return super().eventFilter(editor, event)

    def _line_key(self, editor: LineEditor, event: QKeyEvent) -> bool:
        line_id = editor.property("line_id")
        key, modifiers = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and modifiers == Qt.KeyboardModifier.ShiftModifier:
            return True  # no line break inside a line: Enter splits it, Ctrl+Enter adds a line
        if modifiers:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.split_requested.emit(line_id, editor.cursorPosition())
            return True
        if key == Qt.Key.Key_Backspace and editor.cursorPosition() == 0 and not editor.hasSelectedText():
            self.join_requested.emit(line_id)
            return True
        # Up and Down move through the wrapped text, and from its first or last row to the next line.
        if (key == Qt.Key.Key_Up and editor.on_first_row()) or (key == Qt.Key.Key_Down and editor.on_last_row()):
            self.step_requested.emit(line_id, -1 if key == Qt.Key.Key_Up else 1)
            return True
        return False


def _is_undo_or_redo(event: QKeyEvent) -> bool:
    return event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)


def _window_takes_escape(editor: QWidget, event: QKeyEvent) -> bool:
    """Esc stops what the person sees running (a generation: the window's Cancel is enabled) in one
    press, the line staying open; otherwise it leaves the line, as in any editor."""
    if event.key() != Qt.Key.Key_Escape or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
        return False
    escape = QKeySequence(Qt.Key.Key_Escape)
    window_actions = QWidget.actions(editor.window())  # (the studio's window names its own `actions`)
    return any(action.isEnabled() and escape in action.shortcuts() for action in window_actions)
