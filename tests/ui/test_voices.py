"""Giving speakers a voice: files (button or drop), word lists, transcripts, the microphone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import soundfile
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from core.audio.backend import AudioDevice
from core.audio.processing import resample
from core.dia2.transcribe import TranscriptionModelUnavailable
from core.document.speakers import Speaker
from tests.fake_sound_card import FAKE_MICROPHONE, FakeBackend
from tests.ui.conftest import SPEAKER1_TEXT, SPEAKER1_WAV, VOICES, WordsTranscriber, press

EXAMPLE_VOICES = Path(__file__).resolve().parents[2] / "resources" / "example" / "voices"


def drop_file(widget, path: Path) -> None:
    """Drag a file over the widget and drop it, as the window system would."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    where, action = QPointF(5, 5), Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where.toPoint(), action, data, buttons, keys)  # a QPoint on PySide6 6.11
    assert QApplication.sendEvent(widget, enter) and enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(where, action, data, buttons, keys))


def test_a_dropped_file_becomes_the_speakers_voice(studio, qtbot):
    card = studio.window.voices.cards[Speaker.S1]
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        drop_file(card, VOICES / "speaker1_16k.flac")

    voice = studio.dialogue.speakers[Speaker.S1].voice
    assert voice.audio.sample_rate == 24000 and 5 < voice.audio.duration_s < 7
    assert [w.text for w in voice.words] == SPEAKER1_TEXT.split()
    assert card.transcript_edit.toPlainText() == SPEAKER1_TEXT
    assert card.play_button.isEnabled() and card.clear_button.isEnabled()
    assert "s of speech" in card.voice_label.text()
    press(qtbot, studio.window.actions.undo)
    assert studio.dialogue.speakers[Speaker.S1].voice is None
    assert not card.play_button.isEnabled()


def test_a_word_list_beside_the_file_is_used_instead_of_recognition(make_studio, qtbot, tmp_path):
    transcriber = WordsTranscriber("never used")
    studio = make_studio(transcriber=transcriber)
    for name in ("theo.flac", "theo.words.json"):
        shutil.copy(EXAMPLE_VOICES / name, tmp_path / name)
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S2, str(tmp_path / "theo.flac"))

    voice = studio.dialogue.speakers[Speaker.S2].voice
    assert transcriber.calls == 0
    assert voice.words[0].text == "Hello," and voice.words[-1].text == "loudly."
    assert voice.words[0].start_s < 0.1  # timed against the clip, whose leading silence is trimmed


def test_a_corrected_transcript_keeps_the_timings(studio, qtbot):
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    card = studio.window.voices.cards[Speaker.S1]
    before = studio.dialogue.speakers[Speaker.S1].voice
    assert card.apply_button.isHidden()

    card.transcript_edit.setPlainText(SPEAKER1_TEXT.replace("Hello there.", "Hullo there."))
    assert not card.apply_button.isHidden()
    qtbot.mouseClick(card.apply_button, Qt.MouseButton.LeftButton)

    after = studio.dialogue.speakers[Speaker.S1].voice
    assert after.words[0].text == "Hullo" and after.words[0].start_s == before.words[0].start_s
    assert after.audio == before.audio
    assert card.apply_button.isHidden()


def test_without_recognition_the_typed_transcript_makes_the_voice_usable(make_studio, qtbot):
    class Offline:
        def transcribe(self, audio, sample_rate):
            raise TranscriptionModelUnavailable("Whisper large-v3 is not downloaded and the Hub cannot be reached.")

    studio = make_studio(transcriber=Offline())
    card = studio.window.voices.cards[Speaker.S1]
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    assert studio.dialogue.speakers[Speaker.S1].voice.words == ()
    message = card.message_label.text()
    assert "Type what is said" in message and "speaker1_24k_mono.words.json beside the file" in message

    card.transcript_edit.setPlainText(SPEAKER1_TEXT)
    card.apply_button.click()
    words = studio.dialogue.speakers[Speaker.S1].voice.words
    assert [w.text for w in words] == SPEAKER1_TEXT.split()
    assert all(a.end_s <= b.start_s for a, b in zip(words, words[1:]))


def test_an_unreadable_file_is_refused_on_the_card(studio, qtbot):
    card = studio.window.voices.cards[Speaker.S2]
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S2, str(VOICES / "not_audio.wav"))
    assert studio.dialogue.speakers[Speaker.S2].voice is None
    assert "not_audio.wav" in card.message_label.text() and card.load_button.isEnabled()


def test_recording_from_the_microphone(make_studio, qtbot):
    speech, rate = soundfile.read(SPEAKER1_WAV, dtype="float32")
    microphone = FakeBackend(speed=None, microphone=resample(speech, rate, 48000))
    studio = make_studio(backend=microphone)
    voices = studio.window.voices
    card = voices.cards[Speaker.S1]
    assert voices.microphone.currentText() == "Fake microphone"

    card.record_button.click()
    assert voices.is_recording and not card.meter.isHidden()
    assert not voices.cards[Speaker.S2].record_button.isEnabled()
    microphone.advance(3.0)
    qtbot.waitUntil(lambda: card.meter.dbfs > -30)
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        card.record_button.click()

    voice = studio.dialogue.speakers[Speaker.S1].voice
    assert not voices.is_recording and card.meter.isHidden()
    assert 2.5 < voice.audio.duration_s <= 3.0
    assert card.transcript_edit.toPlainText() == SPEAKER1_TEXT


def test_without_a_microphone_recording_is_off_until_one_is_plugged_in(make_studio, qtbot, monkeypatch):
    monkeypatch.setattr("ui.voices.DEVICES_INTERVAL_MS", 20)  # look for devices often
    sound = FakeBackend(inputs=())
    studio = make_studio(backend=sound)
    voices = studio.window.voices
    card = voices.cards[Speaker.S1]
    assert voices.microphone.currentText() == "No microphone found"
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):  # the card is busy, then free again
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    for each in voices.cards.values():
        assert not each.record_button.isEnabled()
        assert each.record_button.toolTip().startswith("No microphone found.")

    sound.plug_in(FAKE_MICROPHONE)
    qtbot.waitUntil(card.record_button.isEnabled)
    assert voices.microphone.currentText() == "Fake microphone" and voices.microphone.isEnabled()
    assert card.record_button.toolTip() == "Record this speaker's voice from the microphone"


def test_an_unplugged_microphone_stays_the_one_chosen(make_studio, qtbot, monkeypatch):
    monkeypatch.setattr("ui.voices.DEVICES_INTERVAL_MS", 20)
    headset = AudioDevice("usb-in", "USB headset microphone", 1, 0, 48000)
    sound = FakeBackend(inputs=(FAKE_MICROPHONE, headset))
    studio = make_studio(backend=sound)
    microphone = studio.window.voices.microphone
    microphone.setCurrentIndex(1)
    sound.unplug(headset)
    qtbot.waitUntil(lambda: microphone.count() == 1)
    assert microphone.currentText() == "Fake microphone"  # records from the one there is
    assert studio.settings.input_device == "USB headset microphone"
    sound.plug_in(headset)
    qtbot.waitUntil(lambda: microphone.currentText() == "USB headset microphone")


def test_a_notice_about_a_voice_goes_with_it(studio, qtbot, tmp_path):
    speech, rate = soundfile.read(SPEAKER1_WAV, dtype="float32")
    long_voice = tmp_path / "long.wav"
    soundfile.write(long_voice, np.tile(speech, 4), rate)  # more than the 20 s a voice uses
    card = studio.window.voices.cards[Speaker.S1]
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(long_voice))
    assert "only its first 20 s are used" in card.message_label.text() and card.message_label.isVisibleTo(card)

    press(qtbot, studio.window.actions.undo)  # the voice goes, and what was said about it
    assert studio.dialogue.speakers[Speaker.S1].voice is None and not card.message_label.isVisibleTo(card)
    press(qtbot, studio.window.actions.redo)
    assert "only its first 20 s are used" in card.message_label.text() and card.message_label.isVisibleTo(card)
    studio.window.actions.new_project.trigger()
    assert not card.message_label.isVisibleTo(card)


def test_play_sends_the_voice_to_the_speakers(studio, qtbot, sound):
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    voice = studio.dialogue.speakers[Speaker.S1].voice
    studio.window.voices.cards[Speaker.S1].play_button.click()
    stream = sound.streams[-1]
    assert stream.wait_for_clock(0.5)
    played = stream.played_audio[:, 0]
    np.testing.assert_allclose(played[:4000], voice.audio.samples()[:4000], atol=1e-6)
    assert studio.window.playback_bar.what.text().startswith("Voice of Speaker 1")


def test_name_and_colour_edits_are_undoable(studio, qtbot):
    card = studio.window.voices.cards[Speaker.S2]
    card.name_edit.selectAll()
    qtbot.keyClicks(card.name_edit, "Theo")
    assert studio.dialogue.speakers[Speaker.S2].name == "Theo"
    assert "Theo" in card.title()
    press(qtbot, studio.window.actions.undo)  # the typing run is one step
    assert studio.dialogue.speakers[Speaker.S2].name == "Speaker 2"
    assert card.name_edit.text() == "Speaker 2"


def test_clear_removes_the_voice_and_undo_brings_it_back(studio, qtbot):
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    card = studio.window.voices.cards[Speaker.S1]
    voice = studio.dialogue.speakers[Speaker.S1].voice
    assert card.clear_button.isEnabled()

    qtbot.mouseClick(card.clear_button, Qt.MouseButton.LeftButton)
    assert studio.dialogue.speakers[Speaker.S1].voice is None
    assert not card.clear_button.isEnabled() and not card.play_button.isEnabled()
    press(qtbot, studio.window.actions.undo)
    assert studio.dialogue.speakers[Speaker.S1].voice == voice
    assert card.clear_button.isEnabled() and card.transcript_edit.toPlainText() == SPEAKER1_TEXT


def test_the_chosen_microphone_is_the_one_recorded_from(make_studio, qtbot):
    speech, rate = soundfile.read(SPEAKER1_WAV, dtype="float32")
    headset = AudioDevice("usb-in", "USB headset microphone", 1, 0, 48000)
    sound = FakeBackend(speed=None, microphone=resample(speech, rate, 48000), inputs=(FAKE_MICROPHONE, headset))
    studio = make_studio(backend=sound)
    voices = studio.window.voices
    assert [voices.microphone.itemText(i) for i in range(voices.microphone.count())] == [
        "Fake microphone", "USB headset microphone"]
    voices.microphone.setCurrentIndex(1)
    assert studio.settings.input_device == "USB headset microphone"

    card = voices.cards[Speaker.S2]
    card.record_button.click()
    assert sound.streams[-1].device == headset
    sound.advance(2.0)
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        card.record_button.click()
    assert 1.5 < studio.dialogue.speakers[Speaker.S2].voice.audio.duration_s <= 2.0
    # and next time the studio starts, it is still the one chosen
    assert make_studio(backend=sound).window.voices.microphone.currentText() == "USB headset microphone"


def test_after_a_correction_is_applied_the_focus_stays_on_the_card_and_its_message_is_in_view(studio, qtbot):
    """The focus jumped to the next speaker's name once the Apply button went; the card's message
    could be below the panel's fold."""
    window = studio.window
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    card = window.voices.cards[Speaker.S1]
    card.transcript_edit.setPlainText(SPEAKER1_TEXT.replace("Hello there.", "Hullo there."))
    card.apply_button.setFocus()
    qtbot.keyClick(card.apply_button, Qt.Key.Key_Space)
    assert card.apply_button.isHidden()
    assert QApplication.focusWidget() is card.transcript_edit

    card.show_message("Saved to the voice library as “Maya”.")
    area = card.message_label.parentWidget()
    while not isinstance(area, QScrollArea):
        area = area.parentWidget()
    qtbot.waitUntil(lambda: area.viewport().rect().contains(
        card.message_label.mapTo(area.viewport(), card.message_label.rect().bottomLeft())))
