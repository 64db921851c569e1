"""Exporting: the dialog's live checks, and files that decode to what was asked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from core.audio.formats import AudioFormat, ExportSettings
from core.audio.tags import ExportMetadata, TakeUsed, read_tags
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from tests.core.audio.test_export import lengths_found_by_other_readers
from tests.ui.conftest import write_dialogue
from ui.export_dialog import ExportChoice, ExportDialog


def dialog(qtbot, tmp_path: Path, settings: ExportSettings | None = None) -> ExportDialog:
    initial = ExportChoice(settings or ExportSettings.create("MP3"), tmp_path / "dialogue.mp3", False, False, None)
    made = ExportDialog(initial, "All 2 lines are generated.")
    qtbot.addWidget(made)
    return made


def choose(widget, value) -> None:
    widget.setCurrentIndex(widget.findData(value))


def test_lossless_formats_hide_the_settings(qtbot, tmp_path):
    export = dialog(qtbot, tmp_path)
    assert export.lossy_settings.isVisibleTo(export)
    choose(export.format, AudioFormat.FLAC)
    assert not export.lossy_settings.isVisibleTo(export) and export.lossless_note.isVisibleTo(export)
    assert export.path_edit.text().endswith("dialogue.flac")
    assert export.choice().settings == ExportSettings.create("FLAC")


def test_the_bitrate_is_checked_against_the_format_table_as_it_is_typed(qtbot, tmp_path):
    export = dialog(qtbot, tmp_path)
    choose(export.sample_rate, 8000)
    export.bitrate.setValue(128)
    assert not export.export_button.isEnabled()
    # in the dialog's words, not the API's (audioSettings.bitrate)
    assert export.error.text() == "Bitrate 128 kbps is not allowed: MP3 stereo at 8000 Hz takes 8 to 64 kbps."
    assert export.bitrate_hint.text() == "allowed: 8–64 kbps"

    export.bitrate.setValue(64)
    assert export.export_button.isEnabled() and export.error.text() == ""

    choose(export.format, AudioFormat.OGG)  # OGG's own table: mono at 24 kHz takes less
    choose(export.sample_rate, 24000)
    choose(export.channels, 1)
    export.bitrate.setValue(96)
    assert "16 to 80 kbps" in export.error.text()
    export.bitrate.setValue(80)
    assert export.choice().settings == ExportSettings.create("OGG", 24000, 80, 1)


def shown_settings(export: ExportDialog) -> tuple:
    return export.sample_rate.currentData(), export.channels.currentData(), export.bitrate.value()


def test_a_format_after_wav_or_flac_starts_from_its_defaults(qtbot, tmp_path):
    for lossless in ("WAV", "FLAC"):
        export = dialog(qtbot, tmp_path, ExportSettings.create(lossless))
        choose(export.format, AudioFormat.OGG)
        assert shown_settings(export) == (48000, 2, 160)
        assert export.export_button.isEnabled() and export.choice().settings == ExportSettings.create("OGG")
        choose(export.format, AudioFormat.FLAC)
        choose(export.format, AudioFormat.MP3)
        assert shown_settings(export) == (44100, 2, 192)


def test_settings_carried_to_another_format_or_rate_move_to_the_nearest_allowed(qtbot, tmp_path):
    export = dialog(qtbot, tmp_path, ExportSettings.create("MP3", 22050, 160, 2))
    choose(export.format, AudioFormat.OGG)  # OGG has no 22050 Hz; stereo at 24000 takes 32-160 kbps
    assert shown_settings(export) == (24000, 2, 160) and export.export_button.isEnabled()
    choose(export.channels, 1)  # mono at 24000: 16-80
    assert shown_settings(export) == (24000, 1, 80) and export.export_button.isEnabled()
    choose(export.sample_rate, 8000)  # 8-40
    assert shown_settings(export) == (8000, 1, 40)
    choose(export.format, AudioFormat.MP3)
    assert shown_settings(export) == (8000, 1, 40) and export.export_button.isEnabled()


def test_the_dialog_keeps_its_size_as_messages_come_and_go(qtbot, tmp_path):
    export = dialog(qtbot, tmp_path)
    export.show()
    qtbot.waitExposed(export)
    QApplication.processEvents()
    size = export.size()

    def still_the_same_size() -> bool:
        QApplication.processEvents()
        whole_message = export.error.heightForWidth(export.error.width()) <= export.error.height()
        return export.size() == size and export.sizeHint().height() <= size.height() and whole_message

    choose(export.sample_rate, 8000)
    export.bitrate.setValue(128)  # out of range: a message
    assert export.error.text() and still_the_same_size()
    export.bitrate.setValue(64)
    assert export.error.text() == "" and still_the_same_size()
    export.path_edit.setText(str(tmp_path / "no such folder" / "talk.mp3"))
    assert "does not exist" in export.error.text() and still_the_same_size()
    export.path_edit.setText(str(tmp_path / "talk.wav"))
    assert "change one of them" in export.error.text() and still_the_same_size()
    export.path_edit.setText(str(tmp_path / "talk.mp3"))
    assert export.error.text() == "" and still_the_same_size()
    choose(export.format, AudioFormat.WAV)  # the note in place of the settings
    assert still_the_same_size()


def test_one_file_per_line_asks_for_a_folder(qtbot, tmp_path):
    export = dialog(qtbot, tmp_path)
    export.per_line.setChecked(True)
    assert Path(export.path_edit.text()) == tmp_path
    assert export.export_button.isEnabled()
    export.path_edit.setText(str(tmp_path / "missing"))
    assert "does not exist" in export.error.text() and not export.export_button.isEnabled()
    export.path_edit.setText(str(tmp_path))
    export.whole.setChecked(True)
    assert Path(export.path_edit.text()) == tmp_path / "dialogue.mp3"  # the file name comes back


def test_the_file_is_typed_key_by_key(qtbot, tmp_path):
    export = dialog(qtbot, tmp_path)
    (tmp_path / "episodes").mkdir()
    field = export.path_edit
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    typed = str(tmp_path / "episodes" / "pilots")
    qtbot.keyClicks(field, typed)
    assert field.text() == typed and field.cursorPosition() == len(typed)  # nothing added, the cursor stays
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert field.text() == typed[:-1]
    qtbot.keyClick(field, Qt.Key.Key_Left)
    qtbot.keyClick(field, Qt.Key.Key_Left)
    qtbot.keyClicks(field, "-")
    assert field.text() == str(tmp_path / "episodes" / "pil-ot") and field.cursorPosition() == len(field.text()) - 2
    assert export.export_button.isEnabled()
    assert export.choice().path == tmp_path / "episodes" / "pil-ot.mp3"  # the format's extension, on export

    qtbot.keyClicks(field, ".wav")  # another format's name is said, not changed
    assert field.text() == str(tmp_path / "episodes" / "pil-.wavot")
    qtbot.keyClick(field, Qt.Key.Key_End)
    for _ in range(6):
        qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, "ot.wav")
    assert "ends in .wav, a WAV file's, but the format is MP3" in export.error.text()
    assert not export.export_button.isEnabled()
    choose(export.format, AudioFormat.WAV)
    assert export.export_button.isEnabled() and export.choice().path == tmp_path / "episodes" / "pil-ot.wav"
    choose(export.format, AudioFormat.OGG)  # a new format renames the file
    assert field.text() == str(tmp_path / "episodes" / "pil-ot.ogg")


LOCAL_MODEL = "/models/dia2-finetune"


def two_takes(studio) -> tuple[Take, Take]:
    """Line 1 and 2 from one take, line 3 from another: a dialogue generated in two goes."""
    write_dialogue(studio, (Speaker.S1, "Hello there friend."), (Speaker.S2, "Hi."),
                   (Speaker.S1, "Bye now."))
    dialogue = studio.dialogue
    lines = dialogue.lines
    first = Take(GenerationParams(seed=1), AudioClip.from_samples(np.full(48000, 0.1, np.float32), 24000),
                 lines[:2], words=[TimedWord("Hello", 0.0, 0.3), TimedWord("there", 0.3, 0.6), TimedWord("friend.", 0.6, 1.2),
                                   TimedWord("Hi.", 1.3, 2.0)],
                 line_times={lines[0].id: (0.0, 1.3), lines[1].id: (1.3, 2.0)}, model=LOCAL_MODEL)
    # the second of two results, by a model not recorded (a take saved before models were kept)
    second = Take(GenerationParams(seed=2, number_results=2),
                  AudioClip.from_samples(np.full(24000, 0.2, np.float32), 24000),
                  lines[2:], words=[TimedWord("Bye", 0.1, 0.4), TimedWord("now.", 0.4, 1.0)],
                  line_times={lines[2].id: (0.0, 1.0)})
    dialogue.add_takes([first])
    dialogue.add_takes([second])
    return first, second


def export_with(studio, qtbot, prompts, choice: ExportChoice) -> list[Path]:
    prompts.answers["export"] = choice
    with qtbot.waitSignal(studio.exports.exported, timeout=30_000) as exported:
        assert studio.exports.export()
    return exported.args[0]


def test_the_whole_dialogue_exports_as_heard_and_decodes_as_asked(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    settings = ExportSettings.create("MP3", 44100, 128, 2)
    paths = export_with(studio, qtbot, prompts, ExportChoice(settings, tmp_path / "talk.mp3", False, True, None))

    assert paths == [tmp_path / "talk.mp3", tmp_path / "talk.srt"]
    with av.open(str(paths[0])) as container:
        stream = container.streams.audio[0]
        assert (stream.rate, stream.channels) == (44100, 2)
        assert abs(stream.bit_rate / 1000 - 128) < 4
        decoded = np.concatenate([frame.to_ndarray() for frame in container.decode(stream)], axis=1)
    assert abs(decoded.shape[1] / 44100 - 3.0) < 0.1  # 2 s of the first take, then 1 s of the second
    assert prompts.asked[-1][1][1] == "All 3 lines are generated."  # what the dialog was told

    subtitles = paths[1].read_text(encoding="utf-8")
    assert subtitles.startswith("1\n00:00:00,000 --> 00:00:01,300\nSpeaker 1: Hello there friend.\n")
    assert "00:00:02,000 --> 00:00:03,000\nSpeaker 1: Bye now." in subtitles


@pytest.mark.parametrize("fmt", ["MP3", "WAV", "FLAC", "OGG"])
def test_every_format_is_as_long_as_the_dialogue_for_other_readers(studio, qtbot, prompts, tmp_path, fmt):
    two_takes(studio)
    settings = ExportSettings.create(fmt)
    path, = export_with(studio, qtbot, prompts,
                        ExportChoice(settings, tmp_path / f"talk{settings.format.extension}", False, False, None))
    found = lengths_found_by_other_readers(path)
    assert found == pytest.approx(dict.fromkeys(found, 3.0), abs=0.06)  # MP3: two frames of delay and padding


def test_lines_changed_since_their_take_are_named_before_export(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    first, second, third = studio.dialogue.lines
    prompts.answers["export"] = None
    studio.dialogue.set_text(second.id, "Hi again.")
    assert not studio.exports.export()
    assert prompts.asked[-1][1][1] == ("All 3 lines are generated. Line 2 changed since its take: the export has "
                                       "its old audio. Generate it again to update it.")
    studio.dialogue.set_speaker(first.id, Speaker.S2)
    studio.dialogue.set_text(third.id, "Bye.")
    assert not studio.exports.export()
    assert prompts.asked[-1][1][1].endswith("Lines 1, 2 and 3 changed since their takes: the export has their "
                                            "old audio. Generate them again to update them.")


def test_a_file_of_several_takes_tells_each_take_s_own_lines_seed_and_model(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    path, = export_with(studio, qtbot, prompts,
                        ExportChoice(ExportSettings.create("FLAC"), tmp_path / "talk.flac", False, False, None))
    made_with = ExportMetadata.from_tags(read_tags(path))
    assert made_with.seed is None and "seed" not in made_with.parameters  # not take 1's for line 3
    assert "numberResults" not in made_with.parameters and made_with.parameters["CFGScale"] == 3.0
    assert made_with.takes == (TakeUsed((1, 2), {"model": "dia2-finetune (local folder)", "seed": 1,
                                                 "numberResults": 1}),
                               TakeUsed((3,), {"seed": 2, "numberResults": 2}))
    assert made_with.speakers == ("Speaker 1", "Speaker 2")


def answer_when_asked(button: str) -> list[str]:
    """Press ``button`` in the question that comes next; returns what it said (once it is asked)."""
    said = []

    def answer():
        box = QApplication.activeModalWidget()
        said.append(box.text())
        next(choice for choice in box.buttons() if choice.text() == button).click()

    QTimer.singleShot(0, answer)
    return said


def test_files_that_would_be_replaced_are_asked_about_first(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    subtitles = tmp_path / "talk.srt"
    subtitles.write_text("my own subtitles", encoding="utf-8")
    prompts.answers["export"] = None
    studio.exports.export()
    planned = prompts.asked[-1][1][3]  # the studio's own: the files its export would write
    export = ExportDialog(ExportChoice(ExportSettings.create("WAV"), tmp_path / "talk.wav", False, True, None),
                          "", planned=planned)
    qtbot.addWidget(export)
    export.show()

    said = answer_when_asked("Cancel")
    qtbot.mouseClick(export.export_button, Qt.MouseButton.LeftButton)
    assert said == [f"talk.srt already exists in {tmp_path}. Replace it?"]
    assert export.isVisible() and export.result() != QDialog.DialogCode.Accepted  # back to the dialog
    assert subtitles.read_text(encoding="utf-8") == "my own subtitles"

    (tmp_path / "talk.wav").write_bytes(b"an older export")
    said = answer_when_asked("Replace")
    qtbot.mouseClick(export.export_button, Qt.MouseButton.LeftButton)
    assert said == [f"talk.wav and talk.srt already exist in {tmp_path}. Replace them?"]
    assert export.result() == QDialog.DialogCode.Accepted

    export.per_line.setChecked(True)  # one file per line: its files are the lines'
    (tmp_path / "002 Speaker 2.wav").write_bytes(b"")
    export.show()
    said = answer_when_asked("Cancel")
    qtbot.mouseClick(export.export_button, Qt.MouseButton.LeftButton)
    assert said == [f"002 Speaker 2.wav already exists in {tmp_path}. Replace it?"]


def test_nothing_there_is_not_asked_about(qtbot, tmp_path):
    export = ExportDialog(ExportChoice(ExportSettings.create("WAV"), tmp_path / "talk.wav", False, True, None),
                          "", planned=lambda choice: [choice.path, choice.path.with_suffix(".srt")])
    qtbot.addWidget(export)
    export.show()
    qtbot.mouseClick(export.export_button, Qt.MouseButton.LeftButton)
    assert export.result() == QDialog.DialogCode.Accepted


def test_one_file_per_line_in_wav(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    studio.dialogue.edit_speaker(Speaker.S2, name="Theo")
    paths = export_with(studio, qtbot, prompts,
                        ExportChoice(ExportSettings.create("WAV"), tmp_path, True, False, None))
    assert [p.name for p in paths] == ["001 Speaker 1.wav", "002 Theo.wav", "003 Speaker 1.wav"]
    made_with = [ExportMetadata.from_tags(read_tags(path)) for path in paths]
    assert [m.speakers for m in made_with] == [("Speaker 1",), ("Theo",), ("Speaker 1",)]  # who is heard
    assert [(m.seed, m.parameters.get("model"), m.parameters["numberResults"]) for m in made_with] == [
        (1, "dia2-finetune (local folder)", 1), (1, "dia2-finetune (local folder)", 1), (2, None, 2)]
    durations = [soundfile.info(str(p)).duration for p in paths]
    assert np.allclose(durations, [1.3, 0.7, 1.0], atol=1e-3)
    assert soundfile.read(str(paths[2]))[0].max() > 0.15  # the third line came from the second take


def test_the_choice_is_remembered_for_next_time(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    export_with(studio, qtbot, prompts,
                ExportChoice(ExportSettings.create("OGG", 24000, 64, 1), tmp_path / "a.ogg", False, False, None))
    initial = studio.exports.last_choice()
    assert initial.settings == ExportSettings.create("OGG", 24000, 64, 1)
    assert initial.path.parent == tmp_path


def test_the_selected_scope_is_offered_only_with_a_selection(qtbot, tmp_path):
    initial = ExportChoice(ExportSettings.create("WAV"), tmp_path / "dialogue.wav", False, False, None)
    nothing = ExportDialog(initial, "", ())
    qtbot.addWidget(nothing)
    assert not nothing.selected.isEnabled() and "Select lines" in nothing.selected.toolTip()
    assert nothing.whole.isChecked() and nothing.choice().line_ids is None

    two = ExportDialog(initial, "", ("a", "c"))
    qtbot.addWidget(two)
    assert two.selected.isEnabled() and two.selected.text() == "The selected lines (2), as one file"
    two.selected.setChecked(True)
    assert Path(two.path_edit.text()) == tmp_path / "dialogue.wav"  # one file, like the whole dialogue
    assert two.choice().line_ids == ("a", "c") and not two.choice().per_line
    two.per_line.setChecked(True)
    assert two.choice().line_ids is None and Path(two.path_edit.text()) == tmp_path


def test_the_selected_lines_export_alone_in_dialogue_order(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    first, _, third = studio.dialogue.lines
    timeline = studio.window.timeline
    timeline.select_line(third.id)
    timeline.selectionModel().select(timeline.timeline.index(0, 0),
                                     QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    prompts.answers["export"] = None  # see what the dialog is offered, then answer it as a person would
    assert not studio.exports.export()
    initial, told, selection, planned = prompts.asked[-1][1]
    assert selection == (first.id, third.id)
    export = ExportDialog(replace(initial, path=tmp_path / "two.wav", settings=ExportSettings.create("WAV")),
                          told, selection, planned=planned)
    qtbot.addWidget(export)
    export.selected.setChecked(True)
    export.subtitles.setChecked(True)
    paths = export_with(studio, qtbot, prompts, export.choice())

    assert paths == [tmp_path / "two.wav", tmp_path / "two.srt"]
    audio, rate = soundfile.read(str(paths[0]), dtype="float32")
    assert len(audio) == round(1.3 * rate) + round(1.0 * rate)  # line 1 of the first take, line 3 of the second
    assert np.allclose(audio[:round(1.3 * rate)], 0.1, atol=1e-3)
    assert np.allclose(audio[round(1.3 * rate):], 0.2, atol=1e-3)
    subtitles = paths[1].read_text(encoding="utf-8")
    assert subtitles == ("1\n00:00:00,000 --> 00:00:01,300\nSpeaker 1: Hello there friend.\n\n"
                         "2\n00:00:01,300 --> 00:00:02,300\nSpeaker 1: Bye now.\n")
    assert "Hi." not in subtitles


def test_selected_lines_not_generated_are_refused_with_a_reason(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    studio.dialogue.add_line(Speaker.S2, "Not yet.")
    new = studio.dialogue.lines[-1].id
    with qtbot.waitSignal(studio.exports.failed, timeout=30_000) as failed:
        studio.exports.export(ExportChoice(ExportSettings.create("WAV"), tmp_path / "a.wav", False, False, None,
                                           (new,)))
    assert "None of the selected lines is generated" in failed.args[0]
    assert not (tmp_path / "a.wav").exists()


def test_export_with_nothing_generated_says_so_before_asking_anything(studio, prompts):
    """It opened the dialog, then said "Export failed"."""
    write_dialogue(studio, (Speaker.S1, "Not generated yet."))
    asked = []
    prompts.export = lambda *args: asked.append(args)
    assert not studio.exports.export()
    assert not asked
    assert studio.window.statusBar().currentMessage() == "Nothing to export yet: generate the dialogue first (F5)."


def test_stems_go_with_one_file_and_are_named_under_the_box(qtbot, tmp_path):
    export = ExportDialog(ExportChoice(ExportSettings.create("WAV"), tmp_path / "talk.wav", False, False, None),
                          "", planned=lambda choice: [choice.path] + ([choice.path.with_name("talk.S1-Ann.wav")]
                                                                      if choice.stems else []))
    qtbot.addWidget(export)
    assert export.stems.text() == "Also export one file per speaker (stems)"
    assert not export.stems.isChecked() and export.stems_note.text() == "" and not export.choice().stems
    export.stems.setChecked(True)
    assert export.choice().stems and export.stems_note.text() == "Stems: talk.S1-Ann.wav"
    export.per_line.setChecked(True)  # one file per line: no stems, and the box says why
    assert not export.stems.isEnabled() and "a file of its own already" in export.stems.toolTip()
    assert not export.choice().stems and export.stems_note.text() == ""
    export.whole.setChecked(True)
    assert export.stems.isEnabled() and export.choice().stems  # ticked as it was
    initial = ExportDialog(ExportChoice(ExportSettings.create("WAV"), tmp_path / "a.wav", False, False, None,
                                        stems=True), "")
    qtbot.addWidget(initial)
    assert initial.stems.isChecked()


def test_ticking_stems_exports_each_speaker_s_file_beside_the_dialogue_s(studio, qtbot, prompts, tmp_path):
    two_takes(studio)
    studio.dialogue.edit_speaker(Speaker.S2, name="Theo")
    prompts.answers["export"] = None  # see what the dialog is offered, then answer it as a person would
    assert not studio.exports.export()
    initial, told, selection, planned = prompts.asked[-1][1]
    export = ExportDialog(replace(initial, path=tmp_path / "talk.wav", settings=ExportSettings.create("WAV")),
                          told, selection, planned=planned)
    qtbot.addWidget(export)
    export.show()
    qtbot.waitExposed(export)
    export.subtitles.setChecked(True)
    # on its box: the widget is as wide as the dialog, its middle beyond its text
    qtbot.mouseClick(export.stems, Qt.MouseButton.LeftButton, pos=QPoint(8, export.stems.height() // 2))
    assert export.stems.isChecked()
    assert export.stems_note.text() == "Stems: talk.S1-Speaker_1.wav, talk.S2-Theo.wav"
    paths = export_with(studio, qtbot, prompts, export.choice())

    assert [p.name for p in paths] == ["talk.wav", "talk.S1-Speaker_1.wav", "talk.S2-Theo.wav",
                                       "talk.srt", "talk.S1-Speaker_1.srt", "talk.S2-Theo.srt"]
    mix, first, theo = (soundfile.read(str(path), dtype="int16")[0] for path in paths[:3])
    assert len(mix) == len(first) == len(theo) == 3 * 24000
    assert np.array_equal(first.astype(np.int32) + theo, mix)
    line_2 = slice(round(1.3 * 24000), 2 * 24000)  # Theo's "Hi." in the first take
    assert np.array_equal(theo[line_2], mix[line_2]) and theo[line_2].any()
    assert not np.delete(theo, np.arange(len(theo))[line_2]).any() and not first[line_2].any()
    assert paths[5].read_text(encoding="utf-8") == "1\n00:00:01,300 --> 00:00:02,000\nTheo: Hi.\n"
    assert studio.window.statusBar().currentMessage() == (
        "Exported talk.wav, talk.srt; stems: talk.S1-Speaker_1.wav, talk.S2-Theo.wav")
    assert studio.exports.last_choice().stems  # offered again next time
