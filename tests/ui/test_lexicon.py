"""The pronunciation lexicon in the window: entries added, changed and deleted in its dialog (undone
with the document's undo), lines an edit changes marked as changed since their take, files
imported (each kind, what they leave out said) and exported, dropped on the window, kept with the
project, the shared lexicon across projects with the project's entries winning, an entry heard,
and generations (the tiny model's codes, the takes' written words; speak as I type) reading the
lines respelled."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QPushButton

from core.document.content import LineStatus
from core.document.speakers import Speaker
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams
from core.project.saving import save_project
from core.studio.exporting import summary
from core.studio.lexicon_use import SHARED_LEXICON_FILE
from tests.ui.conftest import TINY_CHECKPOINT, FakeRuntime, press, write_dialogue
from ui.lexicon_dialog import OVERRIDDEN, PROJECT, SHARED
from ui.timeline_model import Column

PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"


def open_lexicon(studio, qtbot, scope: str = PROJECT):
    press(qtbot, studio.window.actions.lexicon)
    dialog = studio.lexicon.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.tabs.setCurrentIndex(1 if scope == SHARED else 0)
    return dialog


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()!r} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def add_entry(qtbot, dialog, written: str, spoken: str, case_sensitive: bool = False, note: str = "") -> None:
    click(qtbot, dialog.new_button)
    qtbot.keyClicks(dialog.written, written)
    qtbot.keyClicks(dialog.spoken, spoken)
    dialog.case_sensitive.setChecked(case_sensitive)
    qtbot.keyClicks(dialog.note, note)
    click(qtbot, dialog.add_button)


def rows(dialog) -> list[tuple[str, ...]]:
    table = dialog.table
    return [tuple(table.item(row, column).text() for column in range(table.columnCount()))
            for row in range(table.rowCount())]


def pairs(lexicon: Lexicon) -> list[tuple[str, str]]:
    return [(entry.written, entry.spoken) for entry in lexicon.entries]


@pytest.fixture
def fake(make_studio, qtbot):
    """A studio whose "model" is a FakeRuntime: a take is one 80 ms tone per word it reads."""
    runtime = FakeRuntime()
    studio = make_studio(model_loader=lambda *args, **kwargs: runtime)
    with qtbot.waitSignal(studio.models.loaded):
        studio.model_controls.load("fake")
    studio.runtime = runtime
    return studio


def generate(studio, qtbot, line_ids=None) -> None:
    with qtbot.waitSignal(studio.generation.finished, timeout=60_000) as finished:
        assert studio.generate(line_ids)
    assert not finished.args[0]


# --- editing ----------------------------------------------------------------------------------------

def test_entries_are_added_changed_and_deleted_and_each_edit_undone_and_redone(studio, qtbot):
    dialog = open_lexicon(studio, qtbot)
    assert dialog.tabs.tabText(0) == "&This project (0)" and rows(dialog) == []
    add_entry(qtbot, dialog, "Nguyen", "Win", note="the family name")
    add_entry(qtbot, dialog, "US", "U S", case_sensitive=True)
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Win"), ("US", "U S")]
    assert rows(dialog) == [("Nguyen", "Win", "", "the family name"), ("US", "U S", "yes", "")]
    assert dialog.tabs.tabText(0) == "&This project (2)" and studio.dialogue.modified
    assert dialog.message_label.text() == "Added “US”, spoken “U S”."

    dialog.table.selectRow(0)
    assert dialog.written.text() == "Nguyen" and dialog.note.text() == "the family name"
    dialog.spoken.clear()
    qtbot.keyClicks(dialog.spoken, "Nwin")
    qtbot.keyClick(dialog.spoken, Qt.Key.Key_Return)  # Enter on the entry selected saves it
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Nwin"), ("US", "U S")]
    dialog.table.selectRow(1)
    click(qtbot, dialog.delete_button)
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Nwin")] and rows(dialog) == [("Nguyen", "Nwin", "",
                                                                                        "the family name")]

    actions = studio.window.actions
    assert actions.undo.text() == "&Undo Delete “US” from the lexicon"
    press(qtbot, actions.undo)
    press(qtbot, actions.undo)
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Win"), ("US", "U S")] and len(rows(dialog)) == 2
    press(qtbot, actions.redo)
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Nwin"), ("US", "U S")]
    assert rows(dialog)[0][1] == "Nwin"


def test_tab_walks_the_form_in_reading_order_and_no_button_takes_enter_from_it(studio, qtbot):
    dialog = open_lexicon(studio, qtbot)
    order = [dialog.written, dialog.spoken, dialog.note, dialog.case_sensitive, dialog.new_button,
             dialog.add_button, dialog.save_button, dialog.delete_button]
    for before, after in zip(order, order[1:]):
        following = before.nextInFocusChain()
        while not following.focusPolicy() & Qt.FocusPolicy.TabFocus:  # labels: in the chain, never focused
            following = following.nextInFocusChain()
        assert following is after, (before.objectName() or before, after)
    assert not any(button.autoDefault() for button in dialog.findChildren(QPushButton))


def test_an_entry_that_cannot_be_is_said_and_changes_nothing(studio, qtbot):
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Nguyen", "Win")
    add_entry(qtbot, dialog, "nguyen", "Nwin")  # the same word
    assert '"nguyen" is in the lexicon twice' in dialog.message_label.text()
    add_entry(qtbot, dialog, "SQL", "[S2] sequel")
    assert "speaker tag [S2]" in dialog.message_label.text()
    click(qtbot, dialog.new_button)
    qtbot.keyClicks(dialog.written, "(laughs)")
    qtbot.keyClick(dialog.written, Qt.Key.Key_Return)
    assert "cues are never respelled" in dialog.message_label.text()
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Win")] and len(studio.dialogue.undo_stack._commands) == 1


def test_an_edit_marks_the_lines_it_changes_as_changed_since_their_take_and_leaves_the_others(fake, qtbot):
    studio = fake
    first, second, third = write_dialogue(studio, (Speaker.S1, "Hello Nguyen."), (Speaker.S2, "Fine, thanks."),
                                          (Speaker.S1, "Bye, nguyen."))
    generate(studio, qtbot)
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Nguyen", "Win")
    assert [studio.dialogue.status(i) for i in (first, second, third)] == [
        LineStatus.OUTDATED, LineStatus.GENERATED, LineStatus.OUTDATED]
    model = studio.window.timeline.timeline
    assert [model.index(row, Column.STATUS).data() for row in range(3)] == ["outdated", "generated", "outdated"]
    assert ("Lines 1, 3 are read differently now: a take made before is marked as changed since it."
            in dialog.message_label.text())
    assert "Lines 1 and 3 changed since their takes" in summary(studio.dialogue)  # what the export dialog says

    generate(studio, qtbot, [first, third])  # made again, read as "Win"
    assert "Hello Win." in studio.runtime.requests[-1].script
    assert [studio.dialogue.status(i) for i in (first, second, third)] == [LineStatus.GENERATED] * 3
    press(qtbot, studio.window.actions.undo)  # the takes
    press(qtbot, studio.window.actions.undo)  # the entry: the first takes speak the lines as written again
    assert studio.dialogue.lexicon == Lexicon()
    assert [model.index(row, Column.STATUS).data() for row in range(3)] == ["generated"] * 3


def test_a_generation_reads_the_lines_respelled_and_its_take_keeps_the_written_words(fake, qtbot):
    studio = fake
    (line,) = write_dialogue(studio, (Speaker.S1, "I use SQL with Nguyen."))
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "SQL", "S Q L")
    add_entry(qtbot, dialog, "Nguyen", "Win")
    generate(studio, qtbot)
    assert studio.runtime.requests[-1].script == "[S1] I use S Q L with Win."
    (take,) = studio.dialogue.takes
    assert [word.text for word in take.words] == ["I", "use", "SQL", "with", "Nguyen."]
    assert [word.start_s for word in take.words] == pytest.approx([0.0, 0.08, 0.16, 0.4, 0.48])
    assert take.respelled == {line: "I use S Q L with Win."}


# --- files --------------------------------------------------------------------------------------------

IMPORTS = {
    "names.json": (json.dumps({"format": "dia-studio-lexicon", "version": 1, "entries": [
        {"written": "Nguyen", "spoken": "Win", "caseSensitive": False, "note": "family name"},
        {"written": "nguyen", "spoken": "Nwin"}]}),
        [("Nguyen", "Win")], "1 added", 'entry 2: "nguyen" is already in the lexicon (entry 1); this entry is left out.'),
    "names.csv": ("written,spoken,case_sensitive,note\nSQL,sequel,,\nsql,squeal,,\nGIF,jif,yes,\n",
                  [("SQL", "sequel"), ("GIF", "jif")], "2 added", 'line 3: "sql" is already in the lexicon (line 2)'),
    "names.pls": (f"""<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="{PLS_NAMESPACE}" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Tran</grapheme><alias>Chan</alias></lexeme>
  <lexeme><grapheme>Ngo</grapheme><phoneme>ŋo</phoneme></lexeme>
</lexicon>
""", [("Tran", "Chan")], "1 replaced", 'line 4: "Ngo" has only phonetic pronunciations (<phoneme>)'),
}


@pytest.mark.parametrize("name", list(IMPORTS))
def test_each_kind_of_file_is_imported_and_what_it_leaves_out_is_said(studio, qtbot, tmp_path, monkeypatch, name):
    text, expected, counts, problem = IMPORTS[name]
    path = tmp_path / name
    path.write_text(text, "utf-8")
    asked = []
    monkeypatch.setattr("ui.lexicon_dialog.QFileDialog.getOpenFileName",
                        lambda *args: asked.append(args) or (str(path), ""))
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Tran", "Tron")  # an entry the pls file replaces
    click(qtbot, dialog.import_button)
    assert "*.json *.csv *.pls" in asked[0][3]
    kept = [("Tran", "Tron")] if name != "names.pls" else []
    assert pairs(studio.dialogue.lexicon) == kept + expected
    message = dialog.message_label.text()
    assert message.startswith(f"Imported {name}: {counts}. Left out: ") and problem in message
    assert studio.window.actions.undo.text() == f"&Undo Import {name} into the lexicon"
    press(qtbot, studio.window.actions.undo)  # the whole import is one step
    assert pairs(studio.dialogue.lexicon) == [("Tran", "Tron")]


def test_a_damaged_file_is_refused_saying_where_and_nothing_is_imported(studio, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "broken.csv"
    path.write_text("written,spoken\nSQL,\n", "utf-8")
    monkeypatch.setattr("ui.lexicon_dialog.QFileDialog.getOpenFileName", lambda *args: (str(path), ""))
    dialog = open_lexicon(studio, qtbot)
    click(qtbot, dialog.import_button)
    assert "line 2" in dialog.message_label.text() and "Nothing was imported." in dialog.message_label.text()
    assert "color: #c62828" in dialog.message_label.styleSheet()
    assert studio.dialogue.lexicon == Lexicon() and not studio.dialogue.modified


@pytest.mark.parametrize("kind", ["Dia Studio lexicon (*.json)", "Spreadsheet, CSV (*.csv)",
                                  "W3C pronunciation lexicon, PLS (*.pls)"])
def test_a_lexicon_is_exported_as_the_kind_of_file_chosen(studio, qtbot, tmp_path, monkeypatch, kind):
    folder = tmp_path / "exported"
    folder.mkdir()
    monkeypatch.setattr("ui.lexicon_dialog.QFileDialog.getSaveFileName",
                        lambda *args: (str(folder / "names"), kind))  # no ending: the kind's is added
    dialog = open_lexicon(studio, qtbot)
    assert not dialog.export_button.isEnabled()  # nothing to export yet
    add_entry(qtbot, dialog, "Nguyen", "Win", note="family name")
    add_entry(qtbot, dialog, "US", "U S", case_sensitive=True)
    click(qtbot, dialog.export_button)
    (path,) = folder.iterdir()
    assert dialog.message_label.text().startswith(f"Exported 2 entries to {path}.")
    if path.suffix == ".json":
        entries = json.loads(path.read_text("utf-8"))["entries"]
        assert [(e["written"], e["spoken"], e["caseSensitive"], e["note"]) for e in entries] == [
            ("Nguyen", "Win", False, "family name"), ("US", "U S", True, "")]
    elif path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as file:
            assert [(row["written"], row["spoken"], row["note"]) for row in csv.DictReader(file)] == [
                ("Nguyen", "Win", "family name"), ("US", "U S", "")]
    else:
        root = ElementTree.parse(path).getroot()
        found = [(lexeme.findtext(f"{{{PLS_NAMESPACE}}}grapheme"), lexeme.findtext(f"{{{PLS_NAMESPACE}}}alias"))
                 for lexeme in root]
        assert found == [("Nguyen", "Win"), ("US", "U S")]
        assert "no place for notes or case-sensitivity" in dialog.message_label.text()


def drop_file(widget, path) -> bool:
    """Drag a file over the widget and drop it, as the window system would; whether it was taken."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    where, action = QPointF(5, 5), Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where.toPoint(), action, data, buttons, keys)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(widget, QDropEvent(where, action, data, buttons, keys))
    return True


def test_a_lexicon_file_dropped_on_the_window_goes_into_the_projects_lexicon(studio, qtbot, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("written,spoken\nNguyen,Win\n", "utf-8")
    assert not drop_file(studio.window, tmp_path / "notes.txt")  # not a lexicon: not taken
    assert drop_file(studio.window.timeline.viewport(), path)  # over the lines, as a person drops it
    assert pairs(studio.dialogue.lexicon) == [("Nguyen", "Win")]
    dialog = studio.lexicon.dialog
    assert dialog.isVisible() and dialog.scope == PROJECT
    assert dialog.message_label.text() == "Imported names.csv: 1 added."


# --- projects and the shared lexicon -----------------------------------------------------------------

def test_the_lexicon_is_saved_with_the_project_and_opened_with_it(studio, qtbot, prompts, tmp_path):
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Nguyen", "Win", note="family name")
    folder = tmp_path / "Talk.diastudio"
    assert studio.save_as(folder) and not studio.dialogue.modified
    studio.new_project()
    assert studio.dialogue.lexicon == Lexicon() and rows(dialog) == []
    assert studio.open_project(folder)
    assert studio.dialogue.lexicon == Lexicon((LexiconEntry("Nguyen", "Win", note="family name"),))
    assert rows(dialog) == [("Nguyen", "Win", "", "family name")]
    assert not prompts.errors()


def test_a_project_with_a_damaged_lexicon_opens_and_says_what_was_left_out(studio, prompts, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    studio.dialogue.set_lexicon(Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("SQL", "sequel"))))
    save_project(studio.dialogue, folder)
    data = json.loads((folder / "project.json").read_text("utf-8"))
    data["lexicon"]["entries"][0]["spoken"] = ""
    (folder / "project.json").write_text(json.dumps(data), "utf-8")
    studio.new_project()
    assert studio.open_project(folder)
    assert pairs(studio.dialogue.lexicon) == [("SQL", "sequel")]
    ((title, message),) = prompts.errors()
    assert title == "Part of the project could not be read"
    assert "entry 1" in message and "needs its respelling" in message and "1 other entry is kept" in message


def test_the_shared_lexicon_applies_in_every_project_and_the_projects_own_entry_wins(make_studio, qtbot, tmp_path):
    studio = make_studio()
    (line,) = write_dialogue(studio, (Speaker.S1, "Hello Nguyen, I use SQL."))
    studio.dialogue.mark_saved()
    dialog = open_lexicon(studio, qtbot, SHARED)
    assert dialog.intro.text().startswith("Read in every project")
    add_entry(qtbot, dialog, "Nguyen", "Win")
    add_entry(qtbot, dialog, "SQL", "sequel")
    assert dialog.tabs.tabText(1) == "Sha&red, every project (2)"
    assert studio.dialogue.respelling(studio.dialogue.line(line)).spoken == "Hello Win, I use sequel."
    assert not studio.dialogue.modified  # the project itself did not change
    shared_file = tmp_path / "config" / SHARED_LEXICON_FILE
    assert [entry["written"] for entry in json.loads(shared_file.read_text("utf-8"))["entries"]] == ["Nguyen", "SQL"]

    dialog.show_scope(PROJECT)
    add_entry(qtbot, dialog, "nguyen", "Nwin")
    assert studio.dialogue.respelling(studio.dialogue.line(line)).spoken == "Hello Nwin, I use sequel."
    dialog.show_scope(SHARED)
    assert dialog.table.item(0, 0).foreground().color() == OVERRIDDEN  # the project's entry wins over it
    assert "wins here" in dialog.table.item(0, 0).toolTip()

    studio.new_project()  # another project: the shared lexicon, not the project's entry
    (other,) = write_dialogue(studio, (Speaker.S2, "Nguyen again"))
    assert studio.dialogue.respelling(studio.dialogue.line(other)).spoken == "Win again"
    assert dialog.tabs.tabText(0) == "&This project (0)"

    press(qtbot, studio.window.actions.undo)  # this document's own edits first
    assert studio.dialogue.lines == ()
    again = make_studio()  # the studio started again reads its shared lexicon
    assert pairs(again.dialogue.shared_lexicon) == [("Nguyen", "Win"), ("SQL", "sequel")]


def test_a_shared_edit_is_undone_and_the_file_follows(studio, qtbot, tmp_path):
    dialog = open_lexicon(studio, qtbot, SHARED)
    add_entry(qtbot, dialog, "Nguyen", "Win")
    shared_file = tmp_path / "config" / SHARED_LEXICON_FILE
    press(qtbot, studio.window.actions.undo)
    assert json.loads(shared_file.read_text("utf-8"))["entries"] == [] and rows(dialog) == []
    press(qtbot, studio.window.actions.redo)
    assert len(json.loads(shared_file.read_text("utf-8"))["entries"]) == 1 and len(rows(dialog)) == 1


def test_a_damaged_shared_lexicon_is_said_left_as_it_is_and_not_edited(make_studio, qtbot, tmp_path):
    shared_file = tmp_path / "config" / SHARED_LEXICON_FILE
    shared_file.parent.mkdir(parents=True, exist_ok=True)
    shared_file.write_text('{"format": "dia-studio-lexicon", "version": 1, "entries": [{"written": "x"}]}', "utf-8")
    studio = make_studio()
    assert "The shared lexicon is not used" in studio.window.statusBar().currentMessage()
    dialog = open_lexicon(studio, qtbot, SHARED)
    add_entry(qtbot, dialog, "Nguyen", "Win")
    assert "Repair or remove the file to edit the shared lexicon." in dialog.message_label.text()
    assert studio.dialogue.shared_lexicon == Lexicon()
    assert shared_file.read_text("utf-8").endswith('[{"written": "x"}]}')  # left as it was


# --- hearing an entry ------------------------------------------------------------------------------------

def test_an_entry_is_heard_in_the_chosen_speakers_voice(fake, qtbot, sound):
    studio = fake
    studio.dialogue.edit_speaker(Speaker.S2, name="Bea")
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Nguyen", "Win Win")
    dialog.table.selectRow(0)
    dialog.speaker.setCurrentIndex(dialog.speaker.findData(Speaker.S2))
    assert dialog.speaker.currentText() == "Bea (S2)"
    with qtbot.waitSignal(studio.lexicon.hearing.running_changed, check_params_cb=lambda running: not running,
                          timeout=30_000):
        click(qtbot, dialog.hear_button)
        assert not dialog.hear_button.isEnabled() and dialog.hear_state.text() == "Speaking…"
    request = studio.runtime.requests[-1]
    assert request.script == "[S2] Win Win" and request.params.number_results == 1
    assert studio.playback.label == "Lexicon: “Nguyen” as “Win Win”, Bea"
    qtbot.waitUntil(lambda: np.abs(sound.streams[-1].played_audio).max(initial=0) > 0.1)
    assert dialog.hear_button.isEnabled() and not studio.dialogue.takes  # heard, kept nowhere


def test_an_entry_is_not_heard_while_a_generation_runs_and_a_generation_waits_for_one(fake, qtbot):
    studio = fake
    write_dialogue(studio, (Speaker.S1, "one two three"))
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Nguyen", "Win")
    dialog.table.selectRow(0)
    studio.runtime.hold_after = 1
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
        qtbot.waitUntil(studio.runtime.holding.is_set)
        assert not dialog.hear_button.isEnabled()
        assert dialog.hear_state.text() == "Not while a generation runs: hear the entry once it has ended."
        studio.runtime.release.set()
    assert dialog.hear_button.isEnabled() and dialog.hear_state.text() == ""

    studio.runtime.holding.clear()
    studio.runtime.release.clear()
    studio.runtime.hold_after = 0  # the entry heard holds the model
    click(qtbot, dialog.hear_button)
    qtbot.waitUntil(studio.runtime.holding.is_set)
    studio.runtime.hold_after = None
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()  # it waits for the entry to stop, then generates
        assert not studio.generation.is_running
    assert len(studio.dialogue.takes) == 2 and not studio.lexicon.hearing.is_running


def test_without_a_model_an_entry_cannot_be_heard_and_the_dialog_says_why(studio, qtbot):
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "Nguyen", "Win")
    dialog.table.selectRow(0)
    assert not dialog.hear_button.isEnabled()
    assert dialog.hear_state.text() == "Load a model to hear entries (Ctrl+Shift+M)."


# --- the real model ------------------------------------------------------------------------------------

GREEDY = GenerationParams(seed=11, temperature=0, audio_temperature=0)


def load_tiny_model(studio, qtbot) -> None:
    with qtbot.waitSignal(studio.models.loaded, timeout=120_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")


def test_a_respelled_line_gives_exactly_the_codes_of_its_respelling_written_out(studio, qtbot):
    """The issue's proof: "Hello Nguyen." with Nguyen → Win makes the codes of "Hello Win." (greedy
    settings), and the take's words say "Nguyen"."""
    load_tiny_model(studio, qtbot)
    studio.dialogue.set_params(GREEDY)
    (line,) = write_dialogue(studio, (Speaker.S1, "Hello Nguyen."))
    add_entry(qtbot, open_lexicon(studio, qtbot), "Nguyen", "Win")
    generate(studio, qtbot)
    (respelled,) = studio.dialogue.takes
    assert [word.text for word in respelled.words] == ["Hello", "Nguyen."]
    assert respelled.respelled == {line: "Hello Win."}

    studio.new_project()
    studio.dialogue.set_params(GREEDY)
    write_dialogue(studio, (Speaker.S1, "Hello Win."))
    generate(studio, qtbot)
    (written_out,) = studio.dialogue.takes
    assert [word.text for word in written_out.words] == ["Hello", "Win."]
    assert respelled.codes.shape[1] > 0
    np.testing.assert_array_equal(respelled.codes, written_out.codes)
    np.testing.assert_array_equal(respelled.audio.samples(), written_out.audio.samples())
    assert [word.start_s for word in respelled.words] == [word.start_s for word in written_out.words]


def test_speak_as_i_type_sends_the_words_respelled_and_keeps_the_written_ones(studio, qtbot):
    load_tiny_model(studio, qtbot)
    studio.dialogue.set_params(GenerationParams(seed=5))
    press(qtbot, studio.window.actions.speak_as_i_type)
    add_entry(qtbot, open_lexicon(studio, qtbot), "Nguyen", "Win")
    studio.lexicon.dialog.close()
    results = []
    studio.live_preview.take_finished.connect(results.append)
    (line_id,) = write_dialogue(studio, (Speaker.S1, ""))
    editor = studio.window.timeline.edit_line(line_id)
    qtbot.keyClicks(editor, "Hello Nguyen, how are you")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # leaves the line: the rest is spoken, the take ends
    qtbot.waitUntil(lambda: bool(results), timeout=120_000)
    (result,) = results
    assert result.complete and [word for word, _ in result.words] == ["Hello", "Win,", "how", "are", "you"]
    press(qtbot, studio.window.actions.keep_preview)
    (take,) = studio.dialogue.takes
    assert [word.text for word in take.words] == ["Hello", "Nguyen,", "how", "are", "you"]
    assert take.respelled == {line_id: "Hello Win, how are you"}
    assert studio.dialogue.status(line_id) is LineStatus.GENERATED


def test_a_line_made_again_after_respelled_lines_carries_on_from_them_as_they_were_read(studio, qtbot, prompts):
    load_tiny_model(studio, qtbot)
    studio.dialogue.set_params(GREEDY)
    first, second = write_dialogue(studio, (Speaker.S1, "I use SQL, Nguyen."), (Speaker.S2, "So do I."))
    dialog = open_lexicon(studio, qtbot)
    add_entry(qtbot, dialog, "SQL", "S Q L")
    add_entry(qtbot, dialog, "Nguyen", "Win")
    generate(studio, qtbot)
    requests = []
    engine = studio.models.engine
    generate_on = engine.generate
    engine.generate = lambda request, cancel: requests.append(request) or generate_on(request, cancel)
    generate(studio, qtbot, [second])
    assert not prompts.errors()  # the model took the lines before: as many word starts as words read
    context = requests[0].context
    assert context.script == "[S1] I use S Q L, Win." and len(context.word_starts) == 6
    assert studio.dialogue.take_for(second) is studio.dialogue.takes[-1]
    assert [studio.dialogue.status(i) for i in (first, second)] == [LineStatus.GENERATED] * 2
