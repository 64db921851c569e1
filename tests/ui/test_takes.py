"""Takes: listing, keeping one, hearing one, and what the timeline shows for each."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.audio.backend import AudioDevice
from core.document.clips import AudioClip
from core.document.content import LineStatus
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from tests.fake_sound_card import FAKE_SPEAKERS, FakeBackend
from tests.ui.conftest import press, write_dialogue
from ui.takes import TAKE_ID_ROLE
from ui.timeline_model import Column


def tone_take(dialogue, seed: int, seconds: float, level: float) -> Take:
    """A take of all lines, each line an equal share of a constant tone."""
    lines = dialogue.lines
    samples = np.full(round(seconds * 24000), level, np.float32)
    share = seconds / len(lines)
    times = {line.id: (i * share, (i + 1) * share) for i, line in enumerate(lines)}
    return Take(GenerationParams(seed=seed), AudioClip.from_samples(samples, 24000), lines, line_times=times)


def test_keeping_a_take_makes_it_speak_its_lines(studio, qtbot):
    first, second = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    dialogue = studio.dialogue
    old, new = tone_take(dialogue, 1, 2.0, 0.1), tone_take(dialogue, 2, 4.0, 0.2)
    dialogue.add_takes([old])
    dialogue.add_takes([new])
    panel = studio.window.takes
    assert panel.list.count() == 2
    assert "seed 2" in panel.list.item(0).text()  # newest first
    assert "✓ kept" in panel.list.item(1).text()
    model = studio.window.timeline.timeline
    assert model.index(0, Column.LENGTH).data() == "1.0 s"

    panel.list.setCurrentRow(0)
    menu = panel.keep_button.menu()
    menu.aboutToShow.emit()  # as the arrow beside Keep opens it
    assert [action.text() for action in menu.actions()] == ["Only for line 1: a", "Only for line 2: b"]
    menu.actions()[1].trigger()
    assert dialogue.kept_takes == {first: old.id, second: new.id}
    assert model.index(1, Column.LENGTH).data() == "2.0 s" and model.index(0, Column.LENGTH).data() == "1.0 s"
    assert "✓ kept for line 2\n" in panel.list.item(0).text() and "✓ kept for line 1\n" in panel.list.item(1).text()
    assert panel.keep_button.isEnabled()
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)  # for all its lines
    assert dialogue.kept_takes == {first: new.id, second: new.id}
    assert model.index(0, Column.LENGTH).data() == "2.0 s"
    assert not panel.keep_button.isEnabled()

    dialogue.set_text(first, "a changed")
    assert model.index(0, Column.STATUS).data() == "outdated"
    assert dialogue.status(second) is LineStatus.GENERATED


def test_playing_a_take_plays_its_audio_and_marks_the_line_being_heard(studio, qtbot, sound):
    first, second = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    take = tone_take(studio.dialogue, 5, 2.0, 0.25)
    studio.dialogue.add_takes([take])
    panel = studio.window.takes
    panel.list.setCurrentRow(0)
    panel.play_button.click()

    stream = sound.streams[-1]
    assert stream.wait_for_clock(1.2)  # into the second line
    model = studio.window.timeline.timeline
    qtbot.waitUntil(lambda: model.index(1, Column.TEXT).data(Qt.ItemDataRole.BackgroundRole) is not None)
    assert np.allclose(stream.played_audio[:2400], 0.25)
    assert "seed 5" in studio.window.playback_bar.what.text()

    studio.window.actions.play_pause.trigger()  # pause
    assert not studio.playback.is_playing
    assert studio.window.playback_bar.play_button.text() == "Play"


def test_deleting_a_take_is_undoable(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "a"))
    take = tone_take(studio.dialogue, 9, 1.0, 0.1)
    studio.dialogue.add_takes([take])
    panel = studio.window.takes
    panel.list.setCurrentRow(0)
    panel.delete_button.click()
    assert studio.dialogue.takes == () and panel.list.count() == 0
    undo = studio.window.actions.undo
    assert undo.isEnabled() and undo.text() == "&Undo Delete take"  # at once, no event loop turn
    undo.trigger()
    assert studio.window.actions.redo.text() == "&Redo Delete take"
    assert panel.list.count() == 1 and studio.dialogue.kept_takes == {line: take.id}


def test_the_chosen_sound_output_is_used_and_remembered(make_studio):
    headset = AudioDevice("usb", "USB headset", 0, 2, 48000)
    sound = FakeBackend(speed=4.0, outputs=(FAKE_SPEAKERS, headset))
    studio = make_studio(backend=sound)
    bar = studio.window.playback_bar
    assert bar.output.currentText() == "Fake speakers"  # the system default at first
    bar.output.setCurrentIndex(1)
    bar.output.activated.emit(1)

    write_dialogue(studio, (Speaker.S1, "a"))
    studio.dialogue.add_takes([tone_take(studio.dialogue, 3, 0.5, 0.1)])
    studio.window.actions.play_pause.trigger()
    assert sound.streams[-1].device == headset
    assert make_studio(backend=sound).window.playback_bar.output.currentText() == "USB headset"


def test_a_takes_tooltip_holds_everything_it_was_made_with(studio):
    write_dialogue(studio, (Speaker.S1, "a"))
    params = GenerationParams(seed=77, cfg_scale=4.5, temperature=0.9, audio_temperature=1.1, top_k=120,
                              include_prefix=True, negative_prompt="a muffled voice")
    studio.dialogue.add_takes([Take(params, AudioClip.from_samples(np.zeros(2400, np.float32), 24000),
                                    studio.dialogue.lines)])
    tip = studio.window.takes.list.item(0).toolTip()
    assert tip.splitlines() == ["Seed: 77", "Model: dia2-2b", "Guidance (CFG): 4.5", "Text temperature: 0.9",
                                "Audio temperature: 1.1", "Top-k: 120", "Voice reference kept at the start: yes",
                                "Negative prompt: “a muffled voice”", "", "Double-click to hear it"]
    studio.dialogue.add_takes([Take(params, AudioClip.from_samples(np.zeros(2400, np.float32), 24000),
                                    studio.dialogue.lines, model="/models/Dia2-finetune")])
    tips = [studio.window.takes.list.item(row).toolTip() for row in range(studio.window.takes.list.count())]
    assert sum("Model: /models/Dia2-finetune\n" in tip for tip in tips) == 1  # the model that really made it


def test_the_playback_bar_names_the_take_playing_and_lets_go_of_one_that_is_gone(studio, qtbot):
    write_dialogue(studio, (Speaker.S1, "a"))
    older, newer = tone_take(studio.dialogue, 1, 1.0, 0.1), tone_take(studio.dialogue, 2, 1.0, 0.2)
    studio.dialogue.add_takes([older])
    studio.dialogue.add_takes([newer])
    panel, bar = studio.window.takes, studio.window.playback_bar
    panel.select_take(newer.id)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert bar.what.text().startswith("Take 2 (seed 2)")

    panel.select_take(older.id)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert bar.what.text().startswith("Take 1 (seed 2)")  # the take playing is the first one now
    press(qtbot, studio.window.actions.undo)
    assert bar.what.text().startswith("Take 2 (seed 2)")
    panel.select_take(newer.id)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert bar.what.text() == "Nothing playing" and studio.playback.player is None
    assert bar.position.text() == "0:00.0 / 0:00.0"

    panel.select_take(older.id)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert bar.what.text().startswith("Take 1 (seed 1)")
    studio.window.actions.new_project.trigger()  # its audio is not the new project's
    assert bar.what.text() == "Nothing playing" and studio.playback.take_id is None


def listed(panel) -> list:
    return [panel.list.item(row) for row in range(panel.list.count())]


def test_typing_in_a_line_leaves_the_takes_list_as_it_is(studio, qtbot):
    _, second = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    older, newer = tone_take(studio.dialogue, 1, 2.0, 0.1), tone_take(studio.dialogue, 2, 2.0, 0.2)
    studio.dialogue.add_takes([older])
    studio.dialogue.add_takes([newer])
    panel = studio.window.takes
    panel.select_take(older.id)
    items, texts = listed(panel), [item.text() for item in listed(panel)]
    told = []
    panel.selected_take_changed.connect(told.append)

    editor = studio.window.timeline.edit_line(second)
    qtbot.keyClicks(editor, " and more")  # real key presses: one edit of the document each
    assert studio.dialogue.line(second).text == "b and more"
    assert all(now is before for now, before in zip(listed(panel), items, strict=True))
    assert [item.text() for item in items] == texts and told == []
    assert panel.selected_take_id() == older.id


def test_a_take_kept_or_a_line_added_changes_the_descriptions_in_place(studio):
    _, second = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    dialogue = studio.dialogue
    everything = tone_take(dialogue, 1, 2.0, 0.1)
    again = Take(GenerationParams(seed=2), AudioClip.from_samples(np.zeros(24000, np.float32), 24000),
                 (dialogue.line(second),), line_times={second: (0.0, 1.0)})
    dialogue.add_takes([everything])
    dialogue.add_takes([again], regenerated=[second])
    panel = studio.window.takes
    panel.select_take(again.id)
    items = listed(panel)
    assert [item.text().split("\n")[0] for item in items] == [
        "Take 2 · line 2 · 1.0 s · ✓ kept", "Take 1 · lines 1–2 · 2.0 s · ✓ kept for line 1"]

    dialogue.keep_take(everything.id)
    assert all(now is before for now, before in zip(listed(panel), items, strict=True))
    assert [item.text().split("\n")[0] for item in items] == [
        "Take 2 · line 2 · 1.0 s", "Take 1 · lines 1–2 · 2.0 s · ✓ kept"]
    assert [item.font().bold() for item in items] == [False, True]
    dialogue.insert_line(0, Speaker.S2, "first now")
    assert [item.text().split("\n")[0] for item in items] == [
        "Take 2 · line 3 · 1.0 s", "Take 1 · lines 2–3 · 2.0 s · ✓ kept"]
    assert all(now is before for now, before in zip(listed(panel), items, strict=True))
    assert panel.selected_take_id() == again.id


def test_a_take_added_or_deleted_is_listed_anew_and_the_new_one_selected(studio):
    write_dialogue(studio, (Speaker.S1, "a"))
    dialogue, panel = studio.dialogue, studio.window.takes
    assert panel.empty_hint.isVisibleTo(panel) and not panel.play_button.isEnabled()
    first = tone_take(dialogue, 1, 1.0, 0.1)
    dialogue.add_takes([first])
    assert panel.selected_take_id() == first.id and not panel.empty_hint.isVisibleTo(panel)
    panel.show_whole_dialogue()
    told = []
    panel.selected_take_changed.connect(told.append)
    second = tone_take(dialogue, 2, 1.0, 0.2)
    dialogue.add_takes([second])
    assert [item.data(TAKE_ID_ROLE) for item in listed(panel)] == [second.id, first.id]
    assert panel.selected_take_id() == second.id and told[-1] is second and panel.play_button.isEnabled()

    dialogue.delete_take(second.id)
    assert [item.data(TAKE_ID_ROLE) for item in listed(panel)] == [first.id]
    assert "Take 1 · line 1 · 1.0 s · ✓ kept\n" in panel.list.item(0).text()
    assert panel.selected_take_id() is None and told[-1] is None and not panel.play_button.isEnabled()
    dialogue.delete_take(first.id)
    assert panel.list.count() == 0 and panel.empty_hint.isVisibleTo(panel)


def test_choosing_another_take_while_one_is_paused_names_the_chosen_one_in_the_playback_bar(studio, qtbot, sound):
    """The bar named the last take played while the waveform showed the one chosen (and Play played that)."""
    write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    first, second = tone_take(studio.dialogue, 5, 2.0, 0.25), tone_take(studio.dialogue, 6, 1.0, 0.25)
    studio.dialogue.add_takes([first, second])
    panel, bar = studio.window.takes, studio.window.playback_bar
    panel.select_take(first.id)
    panel.play_button.click()
    assert "seed 5" in bar.what.text()
    studio.window.actions.play_pause.trigger()  # paused on the first take
    panel.select_take(second.id)
    assert bar.what.text().startswith("Take 2 (seed 6)") and bar.position.text() == "0:00.0 / 0:01.0"
    studio.window.actions.play_pause.trigger()
    assert studio.playback.is_playing and studio.playback.take_id == second.id
    assert bar.what.text().startswith("Take 2 (seed 6)")


def test_a_take_chosen_while_one_plays_leaves_it_playing_and_named(studio, qtbot, sound):
    write_dialogue(studio, (Speaker.S1, "a"))
    first, second = tone_take(studio.dialogue, 5, 2.0, 0.25), tone_take(studio.dialogue, 6, 1.0, 0.25)
    studio.dialogue.add_takes([first, second])
    panel = studio.window.takes
    panel.select_take(first.id)
    panel.play_button.click()
    panel.select_take(second.id)
    assert studio.playback.is_playing and "seed 5" in studio.window.playback_bar.what.text()


def test_a_take_cut_short_lists_the_length_of_its_lines_and_of_what_was_made(studio):
    """A cancelled take that finished line 1 (3.9 s) holds 8.0 s: listed as "line 1 · 8.0 s"."""
    first, second = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    dialogue = studio.dialogue
    cut = Take(GenerationParams(seed=4), AudioClip.from_samples(np.full(8 * 24000, 0.1, np.float32), 24000),
               (dialogue.line(first),), line_times={first: (0.0, 3.9)})
    dialogue.add_takes([cut])
    assert studio.window.takes.list.item(0).text().startswith(
        "Take 1 · line 1 · 3.9 s (cut short: 8.0 s made) · ✓ kept\n")
