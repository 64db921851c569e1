"""Checked takes in the window: every take checked in the background as it arrives (typing goes on),
its score and flags in the takes panel, best first, Keep best, and the checks kept with the project."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from core.audio.processing import resample
from core.dia2.events import AudioChunk, TakeResult, TakeStarted
from core.document.clips import AudioClip
from core.document.speakers import Speaker, VoiceReference
from core.document.takes import Take
from core.params import GenerationParams
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.studio.take_checking import best_take_for, flagged_lines, line_report
from core.take_checks import speaker_encoder
from core.take_checks.verdicts import Verdict
from tests.core.take_checks import dialogue as speech
from tests.ui.conftest import FakeRuntime, WordsTranscriber, use_runtime, write_dialogue
from ui.take_checks_dialog import TakeChecksDialog
from ui.takes import TAKE_ID_ROLE
from ui.timeline_model import Column


def speech_take(studio, parts, seed: int) -> Take:
    """A take of the window's four lines made of real speech (tests/fixtures/dialogue)."""
    made = speech.take_of(parts)
    lines = studio.dialogue.lines
    return Take(GenerationParams(seed=seed), AudioClip.from_samples(made.samples, made.sample_rate), lines,
                words=made.words, line_times={line.id: written.span for line, written in zip(lines, made.lines)})


def write_the_dialogue(studio) -> None:
    write_dialogue(studio, *[(Speaker(tag), text) for tag, text in zip(speech.SPEAKERS, speech.TEXTS)])
    for tag, voice in speech.voices().items():
        text = speech.REFERENCE_TEXTS[tag]
        studio.dialogue.set_voice(Speaker(tag), VoiceReference(AudioClip.from_samples(voice.samples, voice.sample_rate),
                                                               speech.spread_words(text, voice.samples), text))


def checked(studio, qtbot) -> None:
    qtbot.waitUntil(lambda: not studio.take_checking.is_running and all(
        take.id in studio.dialogue.checks for take in studio.dialogue.takes), timeout=30_000)


def listed(studio) -> list[str]:
    items = studio.window.takes.list
    return [items.item(row).text() for row in range(items.count())]


def test_a_new_take_is_checked_and_its_flags_shown(studio, qtbot):
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)])
    assert "checking…" in listed(studio)[0]
    checked(studio, qtbot)
    assert listed(studio)[0].splitlines()[-1].strip() == "score 75 · line 3 bad: speaker"
    tooltip = studio.window.takes.list.item(0).toolTip()
    assert tooltip.startswith("Line 3, bad: sounds like Speaker 2 (S2): 0.")
    assert "Not checked: misheard words" in tooltip


def test_typing_goes_on_while_a_take_is_checked(studio, qtbot, monkeypatch):
    slow, release = threading.Event(), threading.Event()
    real = speaker_encoder.LstmVoiceEncoder.embed

    def slow_embed(self, samples, sample_rate):
        slow.set()
        release.wait(10)
        return real(self, samples, sample_rate)

    monkeypatch.setattr(speaker_encoder.LstmVoiceEncoder, "embed", slow_embed)
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.clean_parts(), seed=1)])
    qtbot.waitUntil(slow.is_set)
    timeline = studio.window.timeline
    timeline.setCurrentIndex(timeline.model().index(0, 2))
    started = time.perf_counter()
    qtbot.keyClick(timeline, Qt.Key.Key_End)
    qtbot.keyClicks(timeline, " Yes")
    typed = time.perf_counter() - started
    release.set()
    assert studio.take_checking.is_running or studio.dialogue.checks  # it was checking all along
    assert typed < 5  # not held up by the check, which waits for release
    checked(studio, qtbot)


def test_best_first_and_keep_best(studio, qtbot):
    write_the_dialogue(studio)
    clean = speech_take(studio, speech.clean_parts(), seed=1)
    swapped = speech_take(studio, speech.swapped(speech.clean_parts()), seed=2)
    studio.dialogue.add_takes([clean])
    studio.dialogue.add_takes([swapped])
    studio.dialogue.keep_take(swapped.id)
    checked(studio, qtbot)
    panel = studio.window.takes
    assert [text.split(" · ")[0] for text in listed(studio)] == ["Take 2", "Take 1"]  # newest first
    panel.best_first.setChecked(True)
    assert [text.split(" · ")[0] for text in listed(studio)] == ["Take 1", "Take 2"]  # 100 before 75
    assert panel.list.item(0).data(TAKE_ID_ROLE) == clean.id

    # Line 3 is bad in take 2 and good in take 1; the other lines are good in both, and take 1
    # scores better: every line keeps take 1.
    assert panel.keep_best_button.isEnabled()
    messages = []
    panel.said.connect(messages.append)
    qtbot.mouseClick(panel.keep_best_button, Qt.MouseButton.LeftButton)
    lines = studio.dialogue.lines
    assert [studio.dialogue.take_for(line.id) for line in lines] == [clean] * 4
    assert messages == ["Kept the best take for lines 1–4."]
    assert not panel.keep_best_button.isEnabled()
    studio.dialogue.undo_stack.undo()
    assert [studio.dialogue.take_for(line.id) for line in lines] == [swapped] * 4

    # A line rewritten since: neither take was made from it as it reads now, so it keeps its take.
    studio.dialogue.set_text(lines[3].id, "That sounds like a plan.")
    panel.keep_best()
    assert [studio.dialogue.take_for(line.id) for line in lines] == [clean, clean, clean, swapped]


def test_the_checks_are_saved_with_the_project_and_not_made_again(make_studio, qtbot, tmp_path, monkeypatch):
    studio = make_studio()
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)])
    checked(studio, qtbot)
    folder = tmp_path / "Checked.diastudio"
    assert studio.save_as(folder)
    shown = listed(studio)

    def no_check(*args):
        raise AssertionError("an opened take with current checks is not checked again")

    monkeypatch.setattr(speaker_encoder.LstmVoiceEncoder, "embed", no_check)
    again = make_studio()
    again.open_project(folder)
    assert not again.take_checking.is_running
    assert listed(again) == shown and "score 75" in shown[0]


def test_new_voices_check_the_takes_again(studio, qtbot):
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)])
    checked(studio, qtbot)
    first = studio.dialogue.checks[studio.dialogue.takes[0].id]
    studio.dialogue.edit_speaker(Speaker.S2, name="Bob")
    assert "checking…" in listed(studio)[0]
    qtbot.waitUntil(lambda: studio.dialogue.checks[studio.dialogue.takes[0].id] != first, timeout=30_000)
    assert "sounds like Bob (S2)" in studio.window.takes.list.item(0).toolTip()


class SpeechRuntime(FakeRuntime):
    """Generates each line from the next of ``clips`` (tests/fixtures/dialogue), in order; the
    words are spread over it as the model would time them. ``hold`` waits in the last clip's take
    until cancelled, so a test can press Esc while it runs."""

    def __init__(self, clips: list[str], hold: bool = False):
        super().__init__()
        self.clips, self.hold = list(clips), hold

    def generate(self, request, cancel):
        self.requests.append(request)
        params = request.params.with_seed()
        text = request.script.replace("[S1]", "").replace("[S2]", "").strip()
        audio = resample(speech.clip(self.clips.pop(0)), speech.RATE, self.sample_rate)
        seed = params.take_seeds()[0]
        yield TakeStarted(0, seed)
        if self.hold and not self.clips:
            self.holding.set()
            cancel.wait(30)
        words = speech.spread_words(text, resample(audio, self.sample_rate, speech.RATE))
        timings = [(word.text, word.start_s) for word in words]
        yield AudioChunk(0, audio, 0.0)
        yield TakeResult(0, seed, params.with_seed(seed), audio, self.sample_rate, np.zeros((32, 4), np.int64),
                         timings, not cancel.is_set())


def make_line_3(studio, qtbot, runtime) -> list[str]:
    """Make until good with line 3 selected; what the status bar was told."""
    use_runtime(studio, runtime)
    studio.window.timeline.select_line(studio.dialogue.lines[2].id)
    said = []
    studio.make_until_good.said.connect(said.append)
    with qtbot.waitSignal(studio.make_until_good.finished, timeout=60_000):
        studio.window.actions.make_until_good.trigger()
    return said


def line_3_verdict(studio) -> Verdict:
    line = studio.dialogue.lines[2]
    return line_report(studio.dialogue, studio.dialogue.take_for(line.id), line.id).verdict


def test_make_until_good_stops_at_the_first_take_that_passes_and_keeps_it(studio, qtbot):
    write_the_dialogue(studio)
    runtime = SpeechRuntime(["s2-line3", "s1-line3", "s1-line3"])
    said = make_line_3(studio, qtbot, runtime)
    assert len(runtime.requests) == 2  # the second take passed: no third
    assert line_3_verdict(studio) is Verdict.GOOD
    assert said[0] == "Make until good: line 3, take 1 of up to 3…" and said[-1] == "Make until good: line 3 passed."


def test_make_until_good_keeps_the_best_after_its_last_try(studio, qtbot):
    write_the_dialogue(studio)
    studio.settings.make_until_good_tries = 2
    runtime = SpeechRuntime(["s2-line3", "s2-line3", "s1-line3"])
    said = make_line_3(studio, qtbot, runtime)
    assert len(runtime.requests) == 2 and len(studio.dialogue.takes) == 2
    assert line_3_verdict(studio) is Verdict.BAD
    assert said[-1] == "Make until good: line 3 kept the best of 2 takes, still flagged."


def test_without_a_selection_the_flagged_lines_are_made(studio, qtbot):
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)])
    checked(studio, qtbot)
    runtime = SpeechRuntime(["s1-line3"])
    use_runtime(studio, runtime)
    studio.window.timeline.clearSelection()
    with qtbot.waitSignal(studio.make_until_good.finished, timeout=60_000):
        studio.window.actions.make_until_good.trigger()
    assert [request.script for request in runtime.requests] == [f"[S1] {speech.TEXTS[2]}"]
    assert line_3_verdict(studio) is Verdict.GOOD


def test_esc_stops_making_until_good_and_keeps_what_was_made(studio, qtbot):
    write_the_dialogue(studio)
    runtime = SpeechRuntime(["s2-line3", "s2-line3"], hold=True)
    use_runtime(studio, runtime)
    studio.window.timeline.select_line(studio.dialogue.lines[2].id)
    studio.window.actions.make_until_good.trigger()
    qtbot.waitUntil(runtime.holding.is_set, timeout=30_000)
    assert not studio.window.actions.generate.isEnabled()
    with qtbot.waitSignal(studio.make_until_good.finished, timeout=30_000):
        studio.window.actions.cancel.trigger()
    assert len(runtime.requests) == 2 and len(studio.dialogue.takes) >= 1
    assert studio.window.actions.generate.isEnabled()


def test_the_export_dialog_and_the_status_bar_name_the_flagged_lines(studio, qtbot, prompts):
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)])
    checked(studio, qtbot)
    status = studio.window.checks_status
    assert status.text() == "⚠ The checks flag line 3"  # a label: it never hides a message
    studio.dialogue.set_text(studio.dialogue.lines[2].id, "Bring the book.")  # no take speaks it as written now
    assert status.text() == ""
    studio.dialogue.undo_stack.undo()
    prompts.answers["export"] = None  # cancel the dialog: only its summary is read
    studio.exports.export()
    (summary,) = [details[1] for question, details in prompts.asked if question == "export"]
    assert summary.endswith("The checks flag line 3 in the takes kept: listen to it, or Make until good (Ctrl+F5).")


def test_the_timeline_marks_a_flagged_line_and_a_double_click_plays_its_flag(studio, qtbot, sound):
    write_the_dialogue(studio)
    take = speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)
    studio.dialogue.add_takes([take])
    checked(studio, qtbot)
    model = studio.window.timeline.timeline
    statuses = [model.index(row, Column.STATUS).data() for row in range(4)]
    assert statuses == ["generated", "generated", "⚠ remake", "generated"]
    tooltip = model.index(2, Column.STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith("The checks flag this line in its take:\n• speaker: sounds like Speaker 2 (S2)")
    timeline = studio.window.timeline
    cell = timeline.visualRect(model.index(2, Column.STATUS)).center()
    qtbot.mouseClick(timeline.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # a double-click's first press
    qtbot.mouseDClick(timeline.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert studio.playback.take_id == take.id
    flag_at = take.line_times[studio.dialogue.lines[2].id][0]
    qtbot.waitUntil(lambda: studio.playback.position_s >= flag_at - 0.5 - 0.01, timeout=5_000)
    assert studio.playback.position_s < flag_at + 1.0


def test_checks_on_their_way_when_the_window_closes_are_dropped(studio, qtbot, monkeypatch):
    arriving = threading.Event()
    real = speaker_encoder.LstmVoiceEncoder.embed

    def embed_then_close(self, samples, sample_rate):
        arriving.set()
        return real(self, samples, sample_rate)

    monkeypatch.setattr(speaker_encoder.LstmVoiceEncoder, "embed", embed_then_close)
    write_the_dialogue(studio)
    studio.dialogue.add_takes([speech_take(studio, speech.clean_parts(), seed=1)])
    qtbot.waitUntil(arriving.is_set)
    studio.window.close()  # waits for the take being checked; its checks reach no deleted widget
    panel = studio.window.takes
    panel.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(panel))
    qtbot.wait(200)
    assert studio.dialogue.checks == {}


def test_the_window_closing_while_the_checks_look_for_whisper_waits_for_the_look(make_studio, qtbot, monkeypatch):
    """Looking imports Whisper (seconds in the bundle): a thread left running as the application
    ends aborts it."""
    looking, looked = threading.Event(), threading.Event()

    def slow_look(name):
        looking.set()
        time.sleep(0.5)
        looked.set()
        return None

    monkeypatch.setattr("core.dia2.transcribe.model_on_disk", slow_look)
    studio = make_studio()
    qtbot.waitUntil(looking.is_set)
    studio.window.close()
    assert looked.is_set()


def whisper_on_disk(tmp_path) -> None:
    """Whisper's default model on a processor, as if downloaded (the checks only look for it: the
    window's stand-in transcriber does the hearing)."""
    folder = tmp_path / "cache" / "whisper"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.pt").write_bytes(b"weights")


MISHEARD = "Completely different words"


def heard_by(studio, take) -> str:
    return studio.dialogue.checks[take.id].depends_on.rpartition("; heard by ")[2]


def test_with_whisper_on_disk_the_lines_are_heard(make_studio, qtbot, tmp_path):
    whisper_on_disk(tmp_path)
    hearing = WordsTranscriber(MISHEARD)
    studio = make_studio(transcriber=hearing)
    write_the_dialogue(studio)
    take = speech_take(studio, speech.clean_parts(), seed=1)
    studio.dialogue.add_takes([take])
    qtbot.waitUntil(lambda: take.id in studio.dialogue.checks and heard_by(studio, take) == "small"
                    and not studio.take_checking.is_running, timeout=30_000)
    assert hearing.calls == 4  # each line once
    tooltip = studio.window.takes.list.item(0).toolTip()
    assert "Not checked" not in tooltip
    assert "Line 1, bad: not heard “" in tooltip and "(word error rate" in tooltip
    assert listed(studio)[0].splitlines()[-1].strip() == ("score 0 · line 1 bad: misheard words · "
                                                          "line 2 bad: misheard words · 2 more")


def test_lines_are_heard_once_the_model_is_quiet(make_studio, qtbot, tmp_path):
    hearing = WordsTranscriber(MISHEARD)
    studio = make_studio(transcriber=hearing)
    write_the_dialogue(studio)
    take = speech_take(studio, speech.clean_parts(), seed=1)
    studio.dialogue.add_takes([take])
    checked(studio, qtbot)
    assert "Not checked: misheard words" in studio.window.takes.list.item(0).toolTip()  # no Whisper model

    whisper_on_disk(tmp_path)  # downloaded since, say for a voice
    runtime = FakeRuntime(hold_after=1)
    use_runtime(studio, runtime)
    studio.generate([studio.dialogue.lines[0].id])
    qtbot.waitUntil(runtime.holding.is_set, timeout=30_000)
    later = speech_take(studio, speech.clean_parts(), seed=2)
    studio.dialogue.add_takes([later])  # arrives while the model generates: checked, not heard
    qtbot.waitUntil(lambda: later.id in studio.dialogue.checks and not studio.take_checking.is_running,
                    timeout=30_000)
    assert hearing.calls == 0 and heard_by(studio, later) == studio.dialogue.checks[later.id].depends_on

    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        runtime.release.set()
    qtbot.waitUntil(lambda: all(heard_by(studio, made) == "small" for made in (take, later))
                    and not studio.take_checking.is_running, timeout=60_000)
    assert "not heard" in studio.window.takes.list.item(0).toolTip()


def answer_the_take_checks_dialog(qtbot, answer) -> list:
    """Once the Take checks dialog shows, ``answer(dialog)``; returns the messages it showed."""
    shown = []

    def answered():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, TakeChecksDialog):
            dialog.reject()  # another dialog: end it, so the test fails rather than hangs
            return
        answer(dialog)
        shown.append(dialog.message.text())
        if dialog.isVisible():
            dialog.reject()

    QTimer.singleShot(0, answered)
    return shown


def test_thresholds_set_in_the_take_checks_dialog_check_the_takes_again(studio, qtbot):
    write_the_dialogue(studio)
    take = speech_take(studio, speech.silence_inside(speech.clean_parts(), seconds=2.5), seed=1)
    studio.dialogue.add_takes([take])
    checked(studio, qtbot)
    assert line_report(studio.dialogue, take, studio.dialogue.lines[2].id).verdict is Verdict.CHECK

    def stricter(dialog):
        box = dialog.thresholds["silence_bad_s"]
        box.selectAll()
        qtbot.keyClicks(box, "1")
        dialog.tries.setValue(5)
        qtbot.keyClick(dialog, Qt.Key.Key_Return)

    answer_the_take_checks_dialog(qtbot, stricter)
    studio.window.actions.take_checks.trigger()
    assert studio.settings.make_until_good_tries == 5
    assert json.loads(studio.settings.check_thresholds) == {"silence_bad_s": 1.0}
    qtbot.waitUntil(lambda: "thresholds silence_bad_s=1" in studio.dialogue.checks[take.id].depends_on
                    and not studio.take_checking.is_running, timeout=30_000)
    assert line_report(studio.dialogue, take, studio.dialogue.lines[2].id).verdict is Verdict.BAD

    def contradicting(dialog):
        dialog.thresholds["misheard_bad_rate"].setValue(0.1)
        dialog.accept()

    said = answer_the_take_checks_dialog(qtbot, contradicting)
    studio.window.actions.take_checks.trigger()
    assert said == ["misheard_bad_rate must be at least misheard_check_rate."]  # the dialog stayed open

    def defaults(dialog):
        qtbot.mouseClick(dialog.restore_defaults, Qt.MouseButton.LeftButton)
        dialog.accept()

    answer_the_take_checks_dialog(qtbot, defaults)
    studio.window.actions.take_checks.trigger()
    assert studio.settings.check_thresholds == ""
    qtbot.waitUntil(lambda: "thresholds" not in studio.dialogue.checks[take.id].depends_on
                    and not studio.take_checking.is_running, timeout=30_000)
    assert line_report(studio.dialogue, take, studio.dialogue.lines[2].id).verdict is Verdict.CHECK


def test_a_line_the_lexicon_respells_is_checked_flagged_and_ranked_as_read(studio, qtbot):
    write_the_dialogue(studio)
    studio.dialogue.set_lexicon(Lexicon((LexiconEntry("book", "volume"),)))
    line = studio.dialogue.lines[2]
    take = speech_take(studio, speech.swapped(speech.clean_parts()), seed=1)
    take = Take(take.params, take.audio, take.source_lines, words=take.words, line_times=take.line_times,
                respelled={line.id: studio.dialogue.respelling(line).spoken})
    studio.dialogue.add_takes([take])
    checked(studio, qtbot)
    assert studio.dialogue.speaks_as_written(take, line)  # made from the line as it is read now
    assert flagged_lines(studio.dialogue) == [line.id]
    assert studio.window.checks_status.text() == "⚠ The checks flag line 3"
    assert best_take_for(studio.dialogue, line)[0] == take.id
