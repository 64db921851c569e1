"""Projects from the window: save and reopen, unsaved changes, autosave and recovery, recent
projects, and the example the first start opens."""

from __future__ import annotations

import numpy as np

from core.dia2.transcript_alignment import TimedWord
from core.dialogue import AudioClip, Speaker, Take
from core.params import GenerationParams
from tests.ui.conftest import write_dialogue


def add_take(dialogue) -> Take:
    samples = np.sin(np.arange(24000) * 0.03).astype(np.float32) * 0.3
    take = Take(GenerationParams(seed=77), AudioClip.from_samples(samples, 24000), dialogue.lines,
                words=[TimedWord("Hi.", 0.1, 0.5)], line_times={dialogue.lines[0].id: (0.0, 1.0)})
    dialogue.add_takes([take])
    return take


def test_save_and_reopen_give_the_same_document(make_studio, prompts, tmp_path):
    studio = make_studio()
    write_dialogue(studio, (Speaker.S1, "Hi."))
    studio.dialogue.edit_speaker(Speaker.S2, name="Theo", colour="#112233")
    studio.dialogue.set_params(GenerationParams(seed=5, cfg_scale=2.5))
    take = add_take(studio.dialogue)
    target = tmp_path / "Talk.diastudio"
    prompts.answers["save_project_path"] = target

    studio.window.actions.save.trigger()  # untitled: Save asks where
    assert (target / "project.json").is_file()
    assert studio.window.windowTitle().startswith("Talk[*]") and not studio.window.isWindowModified()

    again = make_studio()
    assert again.open_project(target)
    reopened = again.dialogue
    assert reopened.lines == studio.dialogue.lines
    assert reopened.speakers[Speaker.S2].name == "Theo" and reopened.params == studio.dialogue.params
    (copy,) = reopened.takes
    assert copy.id == take.id and reopened.picked_take_id == take.id
    np.testing.assert_allclose(copy.audio.samples(), take.audio.samples(), atol=2e-7)
    assert again.window.takes.list.count() == 1 and again.window.timeline.model().rowCount() == 1


def test_unsaved_changes_are_asked_about_before_they_go(studio, prompts, tmp_path):
    write_dialogue(studio, (Speaker.S1, "Keep me."))
    prompts.answers["save_changes"] = "cancel"
    studio.window.actions.new_project.trigger()
    assert [line.text for line in studio.dialogue.lines] == ["Keep me."]

    prompts.answers["save_changes"] = "save"
    prompts.answers["save_project_path"] = tmp_path / "Kept.diastudio"
    studio.window.actions.new_project.trigger()
    assert studio.dialogue.lines == () and (tmp_path / "Kept.diastudio" / "project.json").is_file()

    write_dialogue(studio, (Speaker.S1, "Throw me away."))
    prompts.answers["save_changes"] = "discard"
    assert studio.open_project(tmp_path / "Kept.diastudio")
    assert [line.text for line in studio.dialogue.lines] == ["Keep me."]
    assert [q for q, _ in prompts.asked].count("save_changes") == 3


def test_autosave_is_offered_back_after_a_crash(make_studio, prompts, qtbot):
    studio = make_studio()
    write_dialogue(studio, (Speaker.S1, "Not saved yet."))
    add_take(studio.dialogue)
    studio.document.autosave_timer.setInterval(20)
    qtbot.waitUntil(lambda: bool(studio.document.recoverable()))

    # The first window never closed: as after a crash. The app starts again.
    prompts.answers["recover"] = "recover"
    again = make_studio()
    assert [line.text for line in again.dialogue.lines] == ["Not saved yet."]
    assert len(again.dialogue.takes) == 1 and again.dialogue.modified
    assert "an untitled dialogue" in prompts.asked[-1][1][0]


def test_a_declined_recovery_is_deleted(make_studio, prompts, qtbot):
    studio = make_studio()
    write_dialogue(studio, (Speaker.S1, "Lost cause."))
    studio.document.autosave_now()
    assert studio.document.recoverable()
    prompts.answers["recover"] = "discard"
    again = make_studio()
    assert again.dialogue.lines == () and not again.document.recoverable()


def test_saved_projects_are_listed_as_recent(studio, prompts, tmp_path):
    write_dialogue(studio, (Speaker.S1, "One."))
    assert studio.save_as(tmp_path / "One.diastudio")
    studio.new_project()
    recent = studio.window.recent_menu.actions()
    assert [action.text() for action in recent] == [str(tmp_path / "One.diastudio")]
    recent[0].trigger()
    assert [line.text for line in studio.dialogue.lines] == ["One."]


def test_a_damaged_project_is_refused_with_a_reason(studio, prompts, tmp_path):
    broken = tmp_path / "Broken.diastudio"
    broken.mkdir()
    (broken / "project.json").write_text("{ not json")
    assert not studio.open_project(broken)
    title, message = prompts.errors()[0]
    assert title == "Cannot open the project" and "damaged" in message


def test_the_first_start_opens_the_example_and_points_to_the_models(make_studio):
    studio = make_studio(first_start_done=False)
    dialogue = studio.dialogue
    assert [profile.name for profile in dialogue.speakers.values()] == ["Maya", "Theo"]
    assert len(dialogue.lines) == 4 and all(p.voice and p.voice.words for p in dialogue.speakers.values())
    assert studio.document.path is None and not dialogue.modified  # saving asks where: not into the app
    assert studio.window.banner.isVisibleTo(studio.window)
    assert "model manager" in studio.window.banner.text.text()
    assert make_studio().dialogue.lines == ()  # only the first start
