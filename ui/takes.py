"""The takes of the document, newest first: play one, keep one (the take kept for a line speaks
it), delete one. The selected take's seed can be reused by the settings panel.

With no take selected ("Whole dialogue"), the window shows and plays the dialogue as it will be
exported: each line from the take that speaks it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QToolButton, QVBoxLayout, QWidget)

from core.document.content import Change
from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of
from core.document.takes import Take
from core.studio.take_checking import best_takes, current_report, line_report, spoken_lines
from ui.parameters import LABELS

TAKE_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def take_number(dialogue: Dialogue, take: Take) -> int:
    """Takes are numbered from 1, oldest first."""
    return dialogue.takes.index(take) + 1


def take_title(dialogue: Dialogue, take: Take) -> str:
    """What the playback bar calls a take."""
    return f"Take {take_number(dialogue, take)} (seed {take.seed})"


def _spoken_rows(dialogue: Dialogue, take: Take) -> list[int]:
    """The rows of the lines this take speaks that are still in the dialogue."""
    return [row for row, line in enumerate(dialogue.lines, 1) if take.source_line(line.id) is not None]


def describe_take(dialogue: Dialogue, take: Take, number: int) -> str:
    rows = _spoken_rows(dialogue, take)
    if rows:
        lines = line_numbers(rows)
    else:
        lines = "lines since deleted" if take.source_lines else "no line finished"
    kept_rows = rows_of(dialogue, dialogue.lines_kept_by(take.id))
    if not kept_rows:
        kept = ""
    elif kept_rows == rows:
        kept = " · ✓ kept"
    else:
        kept = f" · ✓ kept for {line_numbers(kept_rows)}"
    made = take.created.astimezone().strftime("%H:%M")
    return (f"Take {number} · {lines} · {_length(take)}{kept}\n    seed {take.seed} · made {made}\n"
            f"    {describe_checks(dialogue, take)}")


def _line_reports(dialogue: Dialogue, take: Take) -> list[tuple[int, object]]:
    """(row in the dialogue, the line's report) for each checked line of the take still in it."""
    rows = {line.id: row for row, line in enumerate(dialogue.lines, 1)}
    found = []
    for line in spoken_lines(take):
        report = line_report(dialogue, take, line.id)
        if report is not None and line.id in rows:
            found.append((rows[line.id], report))
    return found


def take_score(dialogue: Dialogue, take: Take) -> int | None:
    """The take's score while its checks are current; None while it waits to be checked."""
    report = current_report(dialogue, take)
    return None if report is None else report.score


def describe_checks(dialogue: Dialogue, take: Take) -> str:
    """"score 75 · line 3 bad: speaker", "score 100 · every line good", or "checking…"."""
    if not spoken_lines(take):
        return "no line finished: nothing to check"
    score = take_score(dialogue, take)
    if score is None:
        return "checking…"
    flagged = [(row, report) for row, report in _line_reports(dialogue, take) if report.flags]
    if not flagged:
        return f"score {score} · every line good"
    said = [f"line {row} {report.verdict.value}: " + ", ".join(sorted({flag.kind.replace("_", " ")
                                                                      for flag in report.flags}))
            for row, report in flagged[:2]]
    more = f" · {len(flagged) - 2} more" if len(flagged) > 2 else ""
    return f"score {score} · " + " · ".join(said) + more


def checks_tooltip(dialogue: Dialogue, take: Take) -> str:
    """Every flag of the take, in plain words, line by line."""
    rows = []
    for row, report in _line_reports(dialogue, take):
        for flag in report.flags:
            at = "" if flag.at_s is None else f" (at {flag.at_s:.1f} s)"
            rows.append(f"Line {row}, {flag.severity.value}: {flag.detail}{at}")
    report = current_report(dialogue, take)
    if report is not None:
        unchecked = sorted({kind.replace("_", " ") for line in report.lines for kind in line.not_checked})
        if unchecked:
            rows.append("Not checked: " + ", ".join(unchecked))
    return "\n".join(rows)


def _length(take: Take) -> str:
    """How long its lines are: a take cut short (cancelled, its engine lost) also holds the start of
    a line it did not finish, which is not theirs ("line 1 · 8.0 s" for a 3.9 s line)."""
    spoken_s = max((span.end_s for span in take.line_times.values()), default=take.duration_s)
    if take.duration_s - spoken_s < 0.05:
        return f"{take.duration_s:.1f} s"
    return f"{spoken_s:.1f} s (cut short: {take.duration_s:.1f} s made)"


def shown_of(dialogue: Dialogue) -> tuple:
    """All that describe_take, the bold fonts and the buttons read: the takes, the order of the
    lines (their numbers), which take each keeps, the checks and the speakers they were made with.
    Not the lines' text, so typing changes none."""
    return (dialogue.takes, tuple(line.id for line in dialogue.lines), dialogue.kept_takes, dict(dialogue.checks),
            dialogue.speakers)


def describe_keeping(dialogue: Dialogue, take: Take) -> str:
    """For the status bar, once a take is made: which lines it is kept for, and which keep another
    take (the one chosen for them), e.g. "Take 4 kept for lines 1, 3; line 2 keeps take 3."."""
    number = take_number(dialogue, take)
    rows = _spoken_rows(dialogue, take)
    if not rows:
        return f"Take {number} has no finished line."
    kept_rows, others = [], {}  # others: number of the take kept instead -> its rows
    for row in rows:
        kept = dialogue.take_for(dialogue.lines[row - 1].id)
        if kept is take:
            kept_rows.append(row)
        else:
            others.setdefault(take_number(dialogue, kept), []).append(row)
    keeping = [f"{line_numbers(other_rows)} {'keeps' if len(other_rows) == 1 else 'keep'} take {other}"
               for other, other_rows in sorted(others.items())]
    if not kept_rows:
        return f"Take {number} is not kept: {'; '.join(keeping)}. Select it and press Keep to use it."
    return "; ".join([f"Take {number} kept for {line_numbers(kept_rows)}"] + keeping) + "."


def take_tooltip(take: Take) -> str:
    """Everything the take was made with, so it can be made again."""
    params = take.params
    rows = [f"Seed: {take.seed}", f"Model: {take.model or params.model}",  # the model that really made it
            f"{LABELS['CFGScale']}: {params.cfg_scale:g}",
            f"{LABELS['settings.temperature']}: {params.temperature:g}",
            f"{LABELS['settings.audioTemperature']}: {params.audio_temperature:g}",
            f"{LABELS['settings.topK']}: {params.top_k}",
            f"Voice reference kept at the start: {'yes' if params.include_prefix else 'no'}"]
    if params.negative_prompt:
        rows.append(f"Negative prompt: “{params.negative_prompt}”")
    return "\n".join(rows + ["", "Double-click to hear it"])


def keep_best_changes(dialogue: Dialogue) -> dict[str, str]:
    """The lines whose best checked take is not the one they keep: line id → that take's id."""
    return {line_id: take_id for line_id, take_id in best_takes(dialogue).items()
            if dialogue.kept_takes.get(line_id) != take_id}


class TakesPanel(QWidget):
    play_requested = Signal(str)  # take id
    selected_take_changed = Signal(object)  # Take or None
    said = Signal(str)  # for the status bar

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("takes")
        self._dialogue: Dialogue | None = None
        self._unsubscribe = None
        self._known: set[str] = set()  # the takes listed so far: a new one is selected as it arrives
        self._shown: tuple = ()  # what the list shows of the document: see shown_of
        self.empty_hint = QLabel("No takes yet. Generate (F5) to make one; each generation adds "
                                 "a take, and the one you keep speaks its lines.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet("color: palette(mid);")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setToolTip("Double-click a take to hear it")
        self.list.itemDoubleClicked.connect(lambda item: self.play_requested.emit(item.data(TAKE_ID_ROLE)))
        self.list.currentItemChanged.connect(self._selection_changed)
        self.whole_button = QPushButton("Whole dialogue")
        self.whole_button.setToolTip("See and hear the dialogue as it will be exported: each line from "
                                     "the take that speaks it")
        self.whole_button.clicked.connect(self.show_whole_dialogue)
        self.best_first = QCheckBox("Best first")
        self.best_first.setToolTip("List the takes by their checks' score, best first (else newest first)")
        self.best_first.toggled.connect(lambda _: self._fill())
        self.keep_best_button = QPushButton("Keep best")
        self.keep_best_button.setToolTip("For each line, keep the take that checks best among those made from "
                                         "its text as it reads now")
        self.keep_best_button.clicked.connect(self.keep_best)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(lambda: self.play_requested.emit(self.selected_take_id()))
        # Keep: the take for all its lines; its menu: for one of them only.
        self.keep_button = QToolButton()
        self.keep_button.setText("Keep")
        self.keep_button.setToolTip("Use this take for all its lines (in the timeline, the whole dialogue "
                                    "and the export); the arrow keeps it for one line only")
        self.keep_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.keep_button.setSizePolicy(self.play_button.sizePolicy())
        self.keep_button.clicked.connect(lambda: self._dialogue.keep_take(self.selected_take_id()))
        self.keep_menu = QMenu(self.keep_button)
        self.keep_menu.aboutToShow.connect(self._fill_keep_menu)
        self.keep_button.setMenu(self.keep_menu)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(lambda: self._dialogue.delete_take(self.selected_take_id()))
        buttons = QHBoxLayout()
        for button in (self.play_button, self.keep_button, self.delete_button):
            buttons.addWidget(button)
        ranking = QHBoxLayout()
        ranking.addWidget(self.best_first)
        ranking.addStretch()
        ranking.addWidget(self.keep_best_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.whole_button)
        layout.addLayout(ranking)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        for button in (self.whole_button, self.play_button, self.keep_button, self.delete_button,
                       self.keep_best_button):
            button.setEnabled(False)

    def set_dialogue(self, dialogue: Dialogue) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._dialogue = dialogue
        self._known = {take.id for take in dialogue.takes}  # an opened project shows its whole dialogue
        self.list.setCurrentItem(None)
        self._shown = shown_of(dialogue)
        self._unsubscribe = dialogue.subscribe(self._on_change)
        self._fill()

    def selected_take_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(TAKE_ID_ROLE) if item else None

    def show_whole_dialogue(self) -> None:
        """Select no take: the dialogue as it will be exported is shown."""
        self.list.setCurrentItem(None)
        self.list.clearSelection()

    def select_take(self, take_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(TAKE_ID_ROLE) == take_id:
                self.list.setCurrentRow(row)
                return

    def keep_best(self) -> None:
        """Each line keeps the take that checks best for it (one undo step)."""
        dialogue = self._dialogue
        changes = keep_best_changes(dialogue)
        if not changes:
            self.said.emit("Every line keeps its best checked take already." if best_takes(dialogue)
                           else "No take is checked yet.")
            return
        dialogue.keep_takes(changes, "Keep the best takes")
        self.said.emit(f"Kept the best take for {line_numbers(rows_of(dialogue, changes))}.")

    def _on_change(self, change: Change) -> None:
        shown = shown_of(self._dialogue)
        if shown != self._shown:  # not while a line is typed in: its text is not shown here
            self._shown = shown
            self._refresh()

    def _refresh(self) -> None:
        """Rebuild the list when takes came, went or moved; else (a take kept, lines moved) update
        its items in place, which keeps the selection as it is."""
        numbered = self._newest_first()
        listed = [self.list.item(row).data(TAKE_ID_ROLE) for row in range(self.list.count())]
        if listed != [take.id for _, take in numbered]:
            self._fill()
            return
        for row, (number, take) in enumerate(numbered):
            self._show_take(self.list.item(row), take, number)
        self._selection_changed()  # the same take, but the window redraws it or the whole dialogue

    def _newest_first(self) -> list[tuple[int, Take]]:
        """The takes as listed, each with its number: newest first, or by score (best first,
        unchecked takes last, newest first among equals)."""
        numbered = list(reversed(list(enumerate(self._dialogue.takes, 1))))
        if self.best_first.isChecked():
            scores = {take.id: take_score(self._dialogue, take) for _, take in numbered}
            numbered.sort(key=lambda item: (scores[item[1].id] is None, -(scores[item[1].id] or 0)))
        return numbered

    def _fill(self) -> None:
        selected = self.selected_take_id()
        self.list.blockSignals(True)
        self.list.clear()
        takes = self._dialogue.takes
        for number, take in self._newest_first():
            item = QListWidgetItem()
            item.setData(TAKE_ID_ROLE, take.id)
            self._show_take(item, take, number)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.empty_hint.setVisible(not takes)
        if selected is not None:
            self.select_take(selected)
        arrived = [take.id for take in takes if take.id not in self._known]
        self._known = {take.id for take in takes}
        if self.list.currentItem() is None and arrived:
            self.select_take(arrived[-1])
        self._selection_changed()

    def _show_take(self, item: QListWidgetItem, take: Take, number: int) -> None:
        """The take's description, bold while it is kept for a line; set only where it changed."""
        text = describe_take(self._dialogue, take, number)
        if item.text() != text:
            item.setText(text)
            checks = checks_tooltip(self._dialogue, take)
            item.setToolTip((f"{checks}\n\n" if checks else "") + take_tooltip(take))
        kept = bool(self._dialogue.lines_kept_by(take.id))
        if item.font().bold() != kept:
            font = item.font()
            font.setBold(kept)
            item.setFont(font)

    def _selection_changed(self) -> None:
        take_id = self.selected_take_id()
        self._update_buttons()
        self.selected_take_changed.emit(self._dialogue.take(take_id) if take_id else None)

    def _fill_keep_menu(self) -> None:
        """One entry per line of the selected take: keep it for that line only."""
        self.keep_menu.clear()
        take_id = self.selected_take_id()
        if take_id is None:
            return
        take = self._dialogue.take(take_id)
        for row in _spoken_rows(self._dialogue, take):
            line = self._dialogue.lines[row - 1]
            text = line.spoken_text if len(line.spoken_text) <= 40 else line.spoken_text[:39] + "…"
            action = self.keep_menu.addAction(f"Only for line {row}: {text}")
            action.setCheckable(True)
            action.setChecked(self._dialogue.kept_takes.get(line.id) == take_id)
            action.triggered.connect(lambda _=False, line_id=line.id: self._dialogue.keep_take(take_id, [line_id]))

    def _update_buttons(self) -> None:
        take_id = self.selected_take_id()
        chosen = take_id is not None
        self.whole_button.setEnabled(chosen)
        self.play_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)
        # Keep does something while a line of the take keeps another take.
        self.keep_button.setEnabled(chosen and rows_of(self._dialogue, self._dialogue.lines_kept_by(take_id))
                                    != _spoken_rows(self._dialogue, self._dialogue.take(take_id)))
        self.keep_best_button.setEnabled(bool(keep_best_changes(self._dialogue)))
