"""The dialogue's lines as a Qt table model: one row per line, edits go straight to the document.

Every edit is a document edit (so it is one undo step there); the model only listens to the
document's change events and tells the view what to redraw.
"""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QAbstractTableModel, QMimeData, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from core.document.content import Change, LineStatus
from core.document.dialogue import Dialogue
from core.document.errors import DialogueError
from core.document.speakers import Speaker
from core.studio.take_checking import line_report
from core.take_checks.verdicts import LineReport, Verdict

LINE_IDS_MIME = "application/x-dia-studio-line-ids"

STATUS_TEXT = {
    LineStatus.NOT_GENERATED: "not generated",
    LineStatus.GENERATING: "generating…",
    LineStatus.GENERATED: "generated",
    LineStatus.OUTDATED: "outdated",
}
STATUS_COLOUR = {
    LineStatus.NOT_GENERATED: "#8a8a8a",
    LineStatus.GENERATING: "#b07d00",
    LineStatus.GENERATED: "#2e7d32",
    LineStatus.OUTDATED: "#c62828",
}


class Column(IntEnum):
    SPEAKER = 0
    TEXT = 1
    STATUS = 2
    LENGTH = 3


HEADERS = {Column.SPEAKER: "Speaker", Column.TEXT: "Line", Column.STATUS: "Status", Column.LENGTH: "Length"}
LINE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SPEAKER_ROLE = Qt.ItemDataRole.UserRole + 2
SPOKEN_WORD_ROLE = Qt.ItemDataRole.UserRole + 3  # the text column: (start, end) of the word being heard
FLAG_ROLE = Qt.ItemDataRole.UserRole + 4  # the status column of a flagged line: (take id, seconds into it)
# A generated line its kept take's checks flag: worth a listen, or to remake.
FLAGGED_TEXT = {Verdict.CHECK: "⚠ listen", Verdict.BAD: "⚠ remake"}
FLAGGED_COLOUR = {Verdict.CHECK: "#b07d00", Verdict.BAD: "#c62828"}
SPEAKING_BACKGROUND = QColor("#fff3c4")


class TimelineModel(QAbstractTableModel):
    def __init__(self, dialogue: Dialogue, parent=None):
        super().__init__(parent)
        self._dialogue = dialogue
        self._lines = dialogue.lines  # as last shown: lines are immutable, so "is" spots edits
        self._line_ids = [line.id for line in dialogue.lines]
        self._speaking_id: str | None = None  # the line the playhead is in
        self._spoken_word: tuple[int, int] | None = None  # where in its text the word being heard is
        self._unsubscribe = dialogue.subscribe(self._on_change)

    @property
    def dialogue(self) -> Dialogue:
        return self._dialogue

    def detach(self) -> None:
        """Stop listening to the document (the window is showing another one)."""
        self._unsubscribe()

    def line_id(self, row: int) -> str:
        return self._line_ids[row]

    def row_of(self, line_id: str) -> int:
        return self._line_ids.index(line_id)

    @property
    def speaking(self) -> tuple[str | None, tuple[int, int] | None]:
        """The line being heard and the (start, end) characters of its word being heard."""
        return self._speaking_id, self._spoken_word

    def set_speaking(self, line_id: str | None, word: tuple[int, int] | None = None) -> None:
        """Highlight the line being heard (None: none), and the word of it, given as (start, end)
        characters in its text. Only the rows that change are redrawn."""
        if (line_id, word) == (self._speaking_id, self._spoken_word):
            return
        if line_id != self._speaking_id:
            rows = [self.row_of(i) for i in (self._speaking_id, line_id) if i in self._line_ids]
            self._speaking_id, self._spoken_word = line_id, word
            for row in rows:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
            return
        self._spoken_word = word  # the same line: only its text cell needs painting again
        if line_id in self._line_ids:
            text = self.index(self.row_of(line_id), Column.TEXT)
            self.dataChanged.emit(text, text, [SPOKEN_WORD_ROLE])

    # --- reading -------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._line_ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return HEADERS[Column(section)]
        return str(section + 1)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        line = self._dialogue.lines[index.row()]
        column = Column(index.column())
        if role == LINE_ID_ROLE:
            return line.id
        if role == SPEAKER_ROLE:
            return line.speaker
        if role == Qt.ItemDataRole.BackgroundRole and line.id == self._speaking_id:
            return QBrush(SPEAKING_BACKGROUND)
        if role == SPOKEN_WORD_ROLE:
            return self._spoken_word if line.id == self._speaking_id and column is Column.TEXT else None
        if column is Column.SPEAKER:
            profile = self._dialogue.speakers[line.speaker]
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
                return profile.name
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(profile.colour))
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{profile.name} ({line.speaker.value}) — double-click or Ctrl+1 / Ctrl+2 to change"
        elif column is Column.TEXT:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
                return line.text
        elif column is Column.STATUS:
            status = self._dialogue.status(line.id)
            flagged = self._flagged(line.id) if status is LineStatus.GENERATED else None
            if flagged is not None:
                return _flagged_data(flagged, role)
            if role == Qt.ItemDataRole.DisplayRole:
                return STATUS_TEXT[status]
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(STATUS_COLOUR[status]))
            if role == Qt.ItemDataRole.ToolTipRole and status is LineStatus.OUTDATED:
                return "The text or speaker changed after this line was generated."
        elif column is Column.LENGTH and role == Qt.ItemDataRole.DisplayRole:
            return _length_text(self._dialogue, line.id)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.STATUS, Column.LENGTH):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _flagged(self, line_id: str) -> tuple[str, LineReport] | None:
        """The kept take's id and its checks of the line, when they flag it."""
        take = self._dialogue.take_for(line_id)
        report = line_report(self._dialogue, take, line_id) if take is not None else None
        return (take.id, report) if report is not None and report.flags else None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = super().flags(index) | Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        base |= Qt.ItemFlag.ItemIsDragEnabled
        if index.column() in (Column.SPEAKER, Column.TEXT):
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    # --- editing -------------------------------------------------------------------------------

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        line_id = self.line_id(index.row())
        try:
            if index.column() == Column.TEXT:
                self._dialogue.set_text(line_id, str(value))
            elif index.column() == Column.SPEAKER and isinstance(value, Speaker):
                self._dialogue.set_speaker(line_id, value)
            else:
                return False
        except DialogueError:
            return False  # the view takes refused text back out of the editor as it is typed
        return True

    # --- drag and drop: moving lines -------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [LINE_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes})
        data = QMimeData()
        data.setData(LINE_IDS_MIME, "\n".join(self.line_id(row) for row in rows).encode())
        return data

    def canDropMimeData(self, data: QMimeData, action, row: int, column: int, parent: QModelIndex) -> bool:
        return data.hasFormat(LINE_IDS_MIME) and action == Qt.DropAction.MoveAction

    def dropMimeData(self, data: QMimeData, action, row: int, column: int, parent: QModelIndex) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        if row < 0:  # dropped onto a row rather than between rows: go before it
            row = parent.row() if parent.isValid() else self.rowCount()
        ids = [i for i in bytes(data.data(LINE_IDS_MIME)).decode().split("\n") if i in self._line_ids]
        self.move_lines(ids, row)
        # The document already moved the rows: tell the view not to remove any "source" rows.
        return False

    def move_lines(self, line_ids: list[str], row: int) -> None:
        """Move these lines (kept in their order) so that they land before the line at ``row``,
        in one undo step."""
        order = [i for i in self._line_ids if i in line_ids]
        before = self._line_ids[row] if row < len(self._line_ids) else None
        while before in order:  # dropped inside the block being moved: land after it
            position = self._line_ids.index(before) + 1
            before = self._line_ids[position] if position < len(self._line_ids) else None
        remaining = [i for i in self._line_ids if i not in order]
        self._dialogue.move_lines(order, remaining.index(before) if before else len(remaining))

    # --- document changes ----------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        lines = self._dialogue.lines
        ids = [line.id for line in lines]
        if ids != self._line_ids:
            self.layoutAboutToBeChanged.emit()
            old_persistent = self.persistentIndexList()
            old_ids = [self._line_ids[index.row()] for index in old_persistent]
            self._line_ids = ids
            self.changePersistentIndexList(old_persistent, [
                self.index(ids.index(line_id), index.column()) if line_id in ids else QModelIndex()
                for line_id, index in zip(old_ids, old_persistent)
            ])
            self.layoutChanged.emit()
            # Lines can change with the order (a join or a split undone): their rows, and an editor
            # open on one of them, must show the text they have now.
            before = {line.id: line for line in self._lines}
            for row, line in enumerate(lines):
                if before.get(line.id) is not line:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
        elif change & (Change.SPEAKERS | Change.TAKES | Change.GENERATING) and ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(ids) - 1, len(Column) - 1))
        elif change & Change.CHECKS and ids:
            self.dataChanged.emit(self.index(0, Column.STATUS), self.index(len(ids) - 1, Column.STATUS))
        elif change & Change.LINES:
            # Typing changes one line: redraw (and re-measure) only the lines that changed.
            for row, (before, after) in enumerate(zip(self._lines, lines)):
                if before is not after:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
        self._lines = lines


def _flagged_data(flagged: tuple[str, LineReport], role: int):
    """The status cell of a line its kept take's checks flag: what to do, in the verdict's colour,
    each flag in the tooltip, and where the first one is (FLAG_ROLE), to hear it."""
    take_id, report = flagged
    if role == Qt.ItemDataRole.DisplayRole:
        return FLAGGED_TEXT[report.verdict]
    if role == Qt.ItemDataRole.ForegroundRole:
        return QBrush(QColor(FLAGGED_COLOUR[report.verdict]))
    if role == Qt.ItemDataRole.ToolTipRole:
        flags = "\n".join(f"• {flag.kind.replace('_', ' ')}: {flag.detail}" for flag in report.flags)
        return f"The checks flag this line in its take:\n{flags}\nDouble-click to hear it."
    if role == FLAG_ROLE:
        first = report.flags[0]
        return take_id, first.at_s if first.at_s is not None else report.span[0]
    return None


def _length_text(dialogue: Dialogue, line_id: str) -> str:
    take = dialogue.take_for(line_id)
    span = take.line_times.get(line_id) if take else None
    return f"{span.end_s - span.start_s:.1f} s" if span else ""

