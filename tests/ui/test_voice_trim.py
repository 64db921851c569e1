"""Trimming a speaker's voice on its card: the waveform's handles or the keyboard fields choose the
part to keep; Trim cuts the clip and keeps the words heard in it, without speech recognition
unless asked; the runtime's length limits are enforced; every trim can be undone."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from core.dia2.transcribe import TranscriptionModelUnavailable
from core.dia2.transcript_alignment import TimedWord
from core.document.speakers import Speaker
from tests.ui.conftest import SPEAKER1_TEXT, SPEAKER1_WAV, WordsTranscriber, press

RATE = 24000


def type_seconds(qtbot, field, seconds: str) -> None:
    """Type a time into a field and press Enter, as a keyboard user would."""
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, seconds)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def expected_words(words, start_s: float, end_s: float) -> list[TimedWord]:
    """The words heard between start_s and end_s, timed from start_s and cut at the part's ends."""
    return [TimedWord(w.text, max(0.0, w.start_s - start_s), min(w.end_s - start_s, end_s - start_s))
            for w in words if w.end_s > start_s and w.start_s < end_s]


def test_the_card_shows_the_voices_waveform(voiced):
    card = voiced.window.voices.cards[Speaker.S1]
    voice = voiced.dialogue.speakers[Speaker.S1].voice
    trimmer = card.trimmer
    assert not trimmer.isHidden() and voiced.window.voices.cards[Speaker.S2].trimmer.isHidden()
    assert trimmer.view.key == voice.audio.id
    assert trimmer.view.duration_s == pytest.approx(voice.audio.duration_s)
    assert len(trimmer.view.envelope) < voice.audio.frame_count / 16  # drawn from columns, not samples
    assert trimmer.view.envelope.maxs.max() == pytest.approx(voice.audio.samples().max())
    assert (trimmer.view.start_s, trimmer.view.end_s) == (0.0, voice.audio.duration_s)
    assert not trimmer.trim_button.isEnabled()  # the whole clip: nothing to cut
    assert trimmer.length_label.text() == f"The whole clip of {voice.audio.duration_s:.2f} s."
    card.grab()  # paints


def test_typed_times_trim_the_clip_and_keep_its_words(voiced, transcriber, qtbot):
    card = voiced.window.voices.cards[Speaker.S1]
    trimmer = card.trimmer
    before = voiced.dialogue.speakers[Speaker.S1].voice
    type_seconds(qtbot, trimmer.start_field, "1.5")
    type_seconds(qtbot, trimmer.end_field, "4")
    assert (trimmer.view.start_s, trimmer.view.end_s) == (1.5, 4.0)
    assert trimmer.length_label.text() == f"Keeps 2.50 s of {before.audio.duration_s:.2f} s."
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        qtbot.mouseClick(trimmer.trim_button, Qt.MouseButton.LeftButton)

    after = voiced.dialogue.speakers[Speaker.S1].voice
    assert after.audio.frame_count == round(2.5 * RATE)
    np.testing.assert_array_equal(after.audio.samples(), before.audio.samples()[round(1.5 * RATE):4 * RATE])
    words = expected_words(before.words, 1.5, 4.0)
    assert 5 <= len(words) < len(before.words)
    assert [w.text for w in after.words] == [w.text for w in words]
    np.testing.assert_allclose([(w.start_s, w.end_s) for w in after.words],
                               [(w.start_s, w.end_s) for w in words], atol=1e-9)
    assert after.transcript == " ".join(w.text for w in words) == card.transcript_edit.toPlainText()
    assert transcriber.calls == 1  # the words were kept, not heard again
    assert trimmer.view.key == after.audio.id and trimmer.view.end_s == pytest.approx(2.5)
    assert "2.5 s of speech" in card.voice_label.text()

    press(qtbot, voiced.window.actions.undo)
    assert voiced.dialogue.speakers[Speaker.S1].voice is before
    assert trimmer.view.key == before.audio.id and card.transcript_edit.toPlainText() == SPEAKER1_TEXT
    press(qtbot, voiced.window.actions.redo)
    assert voiced.dialogue.speakers[Speaker.S1].voice is after


def test_dragging_the_handles_chooses_the_part_to_keep(voiced, qtbot):
    trimmer = voiced.window.voices.cards[Speaker.S1].trimmer
    view = trimmer.view
    before = voiced.dialogue.speakers[Speaker.S1].voice
    width, duration = view.width(), view.duration_s
    middle = view.height() // 2

    def drag(from_x: int, to_x: int) -> None:
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(from_x, middle))
        qtbot.mouseMove(view, QPoint((from_x + to_x) // 2, middle))
        qtbot.mouseMove(view, QPoint(to_x, middle))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(to_x, middle))

    drag(0, round(width * 1.0 / duration))
    drag(width - 1, round(width * 3.5 / duration))
    start, end = view.start_s, view.end_s
    pixel_s = duration / width
    assert start == pytest.approx(1.0, abs=pixel_s) and end == pytest.approx(3.5, abs=pixel_s)
    assert trimmer.start_field.value() == round(start, 2) and trimmer.end_field.value() == round(end, 2)
    drag(round(width * 0.5 / duration), round(width * 4.0 / duration))  # the start handle cannot pass the end
    assert view.start_s == end

    qtbot.mouseClick(trimmer.reset_button, Qt.MouseButton.LeftButton)
    assert (view.start_s, view.end_s) == (0.0, duration) and not trimmer.trim_button.isEnabled()
    drag(0, round(width * 1.0 / duration))
    drag(width - 1, round(width * 3.5 / duration))
    start, end = view.start_s, view.end_s
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        trimmer.trim_button.click()
    after = voiced.dialogue.speakers[Speaker.S1].voice
    assert after.audio.frame_count == round(end * RATE) - round(start * RATE)
    assert [w.text for w in after.words] == [w.text for w in expected_words(before.words, start, end)]


def test_a_part_too_short_is_refused_with_the_reason(voiced, qtbot):
    card = voiced.window.voices.cards[Speaker.S1]
    trimmer = card.trimmer
    before = voiced.dialogue.speakers[Speaker.S1].voice
    type_seconds(qtbot, trimmer.start_field, "2")
    type_seconds(qtbot, trimmer.end_field, "2.6")
    assert trimmer.length_label.text().startswith("Keeps 0.60 s: a voice needs at least 1 s.")
    assert not trimmer.trim_button.isEnabled()
    type_seconds(qtbot, trimmer.end_field, "1.5")
    assert trimmer.length_label.text().startswith("The part to keep must end after it starts.")
    assert not trimmer.trim_button.isEnabled()

    # the application refuses it too, whoever asks
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        voiced.voices.trim(Speaker.S1, 2.0, 2.6)
    assert voiced.dialogue.speakers[Speaker.S1].voice is before
    assert "lasts 0.60 s; a voice needs at least 1 s" in card.message_label.text()


def test_a_part_without_speech_is_refused(make_studio, qtbot, tmp_path):
    import soundfile

    speech, rate = soundfile.read(SPEAKER1_WAV, dtype="float32")
    quiet_then_speech = tmp_path / "pause.wav"
    soundfile.write(quiet_then_speech, np.concatenate([speech[:rate], np.zeros(3 * rate, np.float32),
                                                       speech[rate:]]), rate)
    studio = make_studio()
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(quiet_then_speech))
    before = studio.dialogue.speakers[Speaker.S1].voice
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.trim(Speaker.S1, 1.2, 3.8)
    assert studio.dialogue.speakers[Speaker.S1].voice is before
    assert "The part to keep is silent" in studio.window.voices.cards[Speaker.S1].message_label.text()


def test_transcribe_again_hears_the_trimmed_clip(voiced, transcriber, qtbot):
    card = voiced.window.voices.cards[Speaker.S1]
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        voiced.voices.trim(Speaker.S1, 1.0, 3.0)
    trimmed = voiced.dialogue.speakers[Speaker.S1].voice
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        qtbot.mouseClick(card.transcribe_button, Qt.MouseButton.LeftButton)

    heard = voiced.dialogue.speakers[Speaker.S1].voice
    assert transcriber.calls == 2
    assert heard.audio == trimmed.audio and heard.transcript == SPEAKER1_TEXT
    assert heard.words[-1].end_s <= 2.0  # timed against the 2 s clip
    press(qtbot, voiced.window.actions.undo)
    assert voiced.dialogue.speakers[Speaker.S1].voice is trimmed


def test_when_recognition_fails_the_voice_keeps_its_words(make_studio, qtbot):
    class GoesOffline(WordsTranscriber):
        def transcribe(self, audio, sample_rate):
            if self.calls:
                raise TranscriptionModelUnavailable("Whisper large-v3 is not downloaded and the Hub cannot "
                                                    "be reached.")
            return super().transcribe(audio, sample_rate)

    studio = make_studio(transcriber=GoesOffline(SPEAKER1_TEXT))
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))
    before = studio.dialogue.speakers[Speaker.S1].voice
    card = studio.window.voices.cards[Speaker.S1]
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        card.transcribe_button.click()
    assert studio.dialogue.speakers[Speaker.S1].voice is before
    assert card.message_label.text().startswith("Whisper large-v3 is not downloaded")
    assert card.transcribe_button.isEnabled()


def test_a_trim_that_keeps_no_word_says_to_type_them(voiced, qtbot):
    card = voiced.window.voices.cards[Speaker.S1]
    card.transcript_edit.setPlainText("Hello there.")  # the rest was left out: silence in the words
    card.apply_button.click()
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        voiced.voices.trim(Speaker.S1, 3.0, 5.0)
    voice = voiced.dialogue.speakers[Speaker.S1].voice
    assert voice.audio.duration_s == pytest.approx(2.0) and voice.words == () and voice.transcript == ""
    assert "No recognised word is in the part kept" in card.message_label.text()
    assert not card.message_label.isHidden()


def test_a_trimmed_voice_is_saved_with_the_project(voiced, make_studio, qtbot, tmp_path):
    with qtbot.waitSignal(voiced.voices.prepared, timeout=30_000):
        voiced.voices.trim(Speaker.S1, 0.5, 2.5)
    trimmed = voiced.dialogue.speakers[Speaker.S1].voice
    assert voiced.save_as(tmp_path / "Trimmed.diastudio")
    reopened = make_studio()
    assert reopened.open_project(tmp_path / "Trimmed.diastudio")
    voice = reopened.dialogue.speakers[Speaker.S1].voice
    assert voice.audio.frame_count == 2 * RATE and voice.words == trimmed.words
    assert reopened.window.voices.cards[Speaker.S1].trimmer.view.duration_s == pytest.approx(2.0)
