"""Voice packages in the window: Export voice… and Import voice… in the voice library (file dialogs,
the keyboard), .diavoice files dropped on the library or on a speaker's card, and a refused package
said in the library, never a crash."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

import ui.voice_library_dialog as voice_library_dialog
from core.document.speakers import Speaker
from tests.ui.test_voice_library_panel import open_library, rows, save_to_library
from tests.ui.test_voices import drop_file


def press_keys(qtbot, dialog, key: Qt.Key) -> None:
    """Alt and a button's underlined letter, as a person without a mouse would."""
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, key, Qt.KeyboardModifier.AltModifier)


def test_a_voice_exported_and_imported_again_is_the_same_voice(voiced, qtbot, tmp_path, monkeypatch):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    dialog = open_library(voiced, qtbot, Speaker.S2)
    asked = []
    monkeypatch.setattr(voice_library_dialog.QFileDialog, "getSaveFileName",
                        lambda parent, title, suggested, filters: (asked.append((title, suggested, filters))
                                                                   or (str(tmp_path / "maya"), filters)))
    with qtbot.waitSignal(voiced.voice_library.exported, timeout=30_000) as exported:
        press_keys(qtbot, dialog, Qt.Key.Key_E)  # Export voice…
    package = tmp_path / "maya.diavoice"  # the suffix added to the name typed
    assert exported.args == [str(package)] and package.is_file()
    assert asked[0][0] == "Export “Maya”" and asked[0][1].endswith("Maya.diavoice") and "*.diavoice" in asked[0][2]
    assert dialog.message_label.text() == f"Exported “Maya” to {package}."

    library = voiced.voice_library.library
    library.delete(library.listing().voices[0].id)
    monkeypatch.setattr(voice_library_dialog.QFileDialog, "getOpenFileNames",
                        lambda *args: ([str(package)], "Dia Studio voices (*.diavoice)"))
    with qtbot.waitSignal(voiced.voice_library.imported, timeout=30_000) as imported:
        press_keys(qtbot, dialog, Qt.Key.Key_I)  # Import voice…
    (entry,) = imported.args[0]
    assert rows(dialog) == ["Maya   (6.5 s)"] and dialog.selected() == entry
    assert dialog.message_label.text() == "Imported “Maya” into your voice library."

    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        qtbot.keyClick(dialog.voice_list, Qt.Key.Key_Return)  # use it for speaker 2
    s1, s2 = (voiced.dialogue.speakers[speaker].voice for speaker in Speaker)
    assert s2.words == s1.words and s2.transcript == s1.transcript
    np.testing.assert_allclose(s2.audio.samples(), s1.audio.samples(), atol=2 ** -24)  # 24-bit FLAC


def test_packages_dropped_on_the_library_are_imported_under_free_names(voiced, qtbot, tmp_path):
    entry = save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    voiced.voice_library.library.export(entry.id, tmp_path / "maya.diavoice")
    dialog = open_library(voiced, qtbot, Speaker.S1)
    with qtbot.waitSignal(voiced.voice_library.imported, timeout=30_000) as imported:
        drop_file(dialog, tmp_path / "maya.diavoice")
    assert [voice.name for voice in imported.args[0]] == ["Maya (2)"]
    assert rows(dialog) == ["Maya   (6.5 s)", "Maya (2)   (6.5 s)"] and dialog.selected().name == "Maya (2)"


def test_a_package_dropped_on_a_card_opens_the_library_for_that_speaker(voiced, qtbot, tmp_path):
    entry = save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    library = voiced.voice_library.library
    library.export(entry.id, tmp_path / "maya.diavoice")
    library.delete(entry.id)
    dialog = voiced.window.voices.library_dialog
    assert not dialog.isVisible()
    with qtbot.waitSignal(voiced.voice_library.imported, timeout=30_000):
        drop_file(voiced.window.voices.cards[Speaker.S2], tmp_path / "maya.diavoice")
    assert dialog.isVisible() and dialog.use_button.text() == "Use for Speaker 2"
    assert dialog.selected().name == "Maya"
    assert voiced.dialogue.speakers[Speaker.S2].voice is None  # importing is not using


def test_a_package_dropped_on_the_window_opens_the_library_and_imports_it(voiced, qtbot, tmp_path):
    entry = save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    library = voiced.voice_library.library
    library.export(entry.id, tmp_path / "maya.diavoice")
    library.delete(entry.id)
    with qtbot.waitSignal(voiced.voice_library.imported, timeout=30_000):
        drop_file(voiced.window.timeline.viewport(), tmp_path / "maya.diavoice")  # over the lines
    dialog = voiced.window.voices.library_dialog
    assert dialog.isVisible() and dialog.selected().name == "Maya"


def test_a_refused_package_is_said_in_the_library_and_changes_nothing(voiced, qtbot, tmp_path):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    library = voiced.voice_library.library
    before = sorted(path.name for path in library.folder.iterdir())
    bad = tmp_path / "bad.diavoice"
    bad.write_bytes(b"not a zip")
    dialog = open_library(voiced, qtbot, Speaker.S1)
    with qtbot.waitSignal(voiced.voice_library.imported, timeout=30_000) as imported:
        drop_file(dialog, bad)
    assert imported.args[0] == ()
    assert dialog.message_label.text() == ("“bad.diavoice” is not a Dia Studio voice package: it is not a zip "
                                           "archive.")
    assert "#c62828" in dialog.message_label.styleSheet()  # said as an error
    assert rows(dialog) == ["Maya   (6.5 s)"]
    assert sorted(path.name for path in library.folder.iterdir()) == before


def test_an_export_that_cannot_be_written_is_said_in_the_library(voiced, qtbot, tmp_path, monkeypatch):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    dialog = open_library(voiced, qtbot, Speaker.S1)
    nowhere = tmp_path / "no such folder" / "maya.diavoice"
    monkeypatch.setattr(voice_library_dialog.QFileDialog, "getSaveFileName", lambda *args: (str(nowhere), ""))
    with qtbot.waitSignal(voiced.voice_library.export_failed, timeout=30_000) as failed:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert failed.args[0].startswith(f"Could not export “Maya” to {nowhere}")
    assert dialog.message_label.text() == failed.args[0] and not nowhere.parent.exists()
