"""The voice library from the voices panel: save a speaker's voice under a name, pick it for the
other speaker (no speech recognition), hear it, delete it; damaged entries stay apart."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.controller import VOICE_LIBRARY_FOLDER
from core.document.speakers import Speaker
from core.voice_library import INFO_FILE, VoiceLibrary
from tests.ui.conftest import SPEAKER1_TEXT, press
from ui.voice_library_dialog import EMPTY_TEXT


def save_to_library(studio, qtbot, speaker: Speaker, name: str | None):
    """Press "Save to library…", type the name (None: keep the one offered) and confirm."""
    voices = studio.window.voices
    qtbot.mouseClick(voices.cards[speaker].save_to_library_button, Qt.MouseButton.LeftButton)
    dialog = voices.name_dialog
    assert dialog is not None and dialog.isVisible()
    if name is not None:
        dialog.setTextValue(name)
    with qtbot.waitSignal(studio.voice_library.saved, timeout=30_000) as saved:
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert voices.name_dialog is None
    return saved.args[0]


def open_library(studio, qtbot, speaker: Speaker):
    dialog = studio.window.voices.library_dialog
    qtbot.mouseClick(studio.window.voices.cards[speaker].from_library_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    return dialog


def rows(dialog) -> list[str]:
    return [dialog.voice_list.item(row).text() for row in range(dialog.voice_list.count())]


def click_row(qtbot, dialog, text_start: str) -> None:
    item = next(dialog.voice_list.item(row) for row in range(dialog.voice_list.count())
                if dialog.voice_list.item(row).text().startswith(text_start))
    qtbot.mouseClick(dialog.voice_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=dialog.voice_list.visualItemRect(item).center())
    assert dialog.voice_list.currentItem() is item


def test_a_saved_voice_is_given_to_the_other_speaker_without_recognition(voiced, transcriber, qtbot):
    s1 = voiced.dialogue.speakers[Speaker.S1].voice
    voiced.dialogue.edit_speaker(Speaker.S1, name="Maya")
    entry = save_to_library(voiced, qtbot, Speaker.S1, None)  # the speaker's name is offered
    assert entry.name == "Maya" and entry.source == "Maya in Untitled"
    card = voiced.window.voices.cards[Speaker.S1]
    assert card.message_label.text() == "Saved to the voice library as “Maya”."
    assert card.save_to_library_button.isEnabled()

    dialog = open_library(voiced, qtbot, Speaker.S2)
    assert rows(dialog) == ["Maya   (6.5 s)"]
    assert dialog.use_button.text() == "Use for Speaker 2"
    assert SPEAKER1_TEXT in dialog.details.text() and "From Maya in Untitled" in dialog.details.text()
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)

    s2 = voiced.dialogue.speakers[Speaker.S2].voice
    assert not dialog.isVisible()
    assert transcriber.calls == 1  # only when speaker 1's file was loaded
    assert s2.words == s1.words and s2.transcript == s1.transcript
    np.testing.assert_allclose(s2.audio.samples(), s1.audio.samples(), atol=2 ** -24)  # 24-bit FLAC
    s2_card = voiced.window.voices.cards[Speaker.S2]
    assert s2_card.transcript_edit.toPlainText() == SPEAKER1_TEXT
    assert s2_card.message_label.text() == "The voice “Maya” from your library."
    assert s2_card.trimmer.view.key == s2.audio.id

    press(qtbot, voiced.window.actions.undo)
    assert voiced.dialogue.speakers[Speaker.S2].voice is None


def test_the_same_name_twice_is_numbered(voiced, qtbot):
    assert save_to_library(voiced, qtbot, Speaker.S1, "Maya").name == "Maya"
    assert save_to_library(voiced, qtbot, Speaker.S1, " maya ").name == "maya (2)"
    dialog = open_library(voiced, qtbot, Speaker.S1)
    assert rows(dialog) == ["Maya   (6.5 s)", "maya (2)   (6.5 s)"]


def test_a_bad_name_is_refused_on_the_card(voiced, qtbot):
    voices = voiced.window.voices
    qtbot.mouseClick(voices.cards[Speaker.S1].save_to_library_button, Qt.MouseButton.LeftButton)
    voices.name_dialog.setTextValue("   ")
    with qtbot.waitSignal(voiced.voice_library.save_failed, timeout=30_000):
        voices.name_dialog.accept()
    card = voices.cards[Speaker.S1]
    assert card.message_label.text() == "Give the voice a name."
    assert card.load_button.isEnabled()
    assert voiced.voice_library.library.listing().voices == ()


def test_cancelling_the_name_saves_nothing(voiced, qtbot):
    voices = voiced.window.voices
    qtbot.mouseClick(voices.cards[Speaker.S1].save_to_library_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(voices.name_dialog, Qt.Key.Key_Escape)
    assert voices.name_dialog is None
    assert not (voiced.voice_library.library.folder).exists()


def test_a_library_voice_can_be_heard_before_it_is_picked(voiced, qtbot, sound):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    dialog = open_library(voiced, qtbot, Speaker.S2)
    qtbot.mouseClick(dialog.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: voiced.playback.label == "Library voice Maya", timeout=30_000)
    stream = sound.streams[-1]
    assert stream.wait_for_clock(0.5)
    expected = voiced.dialogue.speakers[Speaker.S1].voice.audio.samples()[:4000]
    np.testing.assert_allclose(stream.played_audio[:4000, 0], expected, atol=2 ** -23)
    assert voiced.dialogue.speakers[Speaker.S2].voice is None  # hearing is not picking


def test_deleting_asks_first(voiced, qtbot):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    save_to_library(voiced, qtbot, Speaker.S1, "Theo")
    dialog = open_library(voiced, qtbot, Speaker.S2)
    click_row(qtbot, dialog, "Theo")

    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert "Delete “Theo” from the voice library?" in dialog.confirm_box.text()
    with qtbot.assertNotEmitted(dialog.delete_requested):
        dialog.confirm_box.button(QMessageBox.StandardButton.No).click()
    assert rows(dialog) == ["Maya   (6.5 s)", "Theo   (6.5 s)"]

    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert rows(dialog) == ["Maya   (6.5 s)"]
    assert [v.name for v in voiced.voice_library.library.listing().voices] == ["Maya"]
    click_row(qtbot, dialog, "Maya")
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert rows(dialog) == [] and dialog.details.text() == EMPTY_TEXT
    assert not dialog.use_button.isEnabled() and not dialog.delete_button.isEnabled()


def test_a_damaged_entry_is_shown_apart_and_can_be_deleted(voiced, qtbot, tmp_path):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    library: VoiceLibrary = voiced.voice_library.library
    assert library.folder == tmp_path / "config" / VOICE_LIBRARY_FOLDER
    broken = save_to_library(voiced, qtbot, Speaker.S1, "Broken")
    (library.folder / broken.id / INFO_FILE).write_text("{", "utf-8")

    dialog = open_library(voiced, qtbot, Speaker.S2)
    assert rows(dialog) == ["Maya   (6.5 s)", f"Damaged: {broken.id}"]
    click_row(qtbot, dialog, "Damaged")
    assert "voice.json cannot be read" in dialog.details.text()
    assert not dialog.use_button.isEnabled() and not dialog.play_button.isEnabled()
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert "this damaged entry" in dialog.confirm_box.text()
    dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert rows(dialog) == ["Maya   (6.5 s)"]

    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        qtbot.keyClick(dialog.voice_list, Qt.Key.Key_Return)  # Enter on a voice uses it
    assert voiced.dialogue.speakers[Speaker.S2].voice is not None


def test_a_voice_deleted_behind_the_dialogs_back_is_reported(voiced, qtbot):
    save_to_library(voiced, qtbot, Speaker.S1, "Maya")
    dialog = open_library(voiced, qtbot, Speaker.S2)
    library = voiced.voice_library.library
    library.delete(library.listing().voices[0].id)  # e.g. by another studio window
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        dialog.use_button.click()
    card = voiced.window.voices.cards[Speaker.S2]
    assert "has no voice" in card.message_label.text() and card.from_library_button.isEnabled()
    assert voiced.dialogue.speakers[Speaker.S2].voice is None
