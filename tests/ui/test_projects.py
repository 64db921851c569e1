"""Projects from the window: save and reopen, unsaved changes, autosave and recovery, recent
projects, and the example the first start opens."""

from __future__ import annotations

import errno
import os
import threading
import time

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QListView, QWidget

from app.controller import EXAMPLE_PROJECT

from core.project import layout, saving
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.project.opening import open_project
from core.project.recovery import recover, write_autosave
from core.project.saving import save_project
from tests.full_disk import fill_disk
from tests.ui.conftest import write_dialogue
from ui.open_project_dialog import OpenProjectDialog
from ui.prompts import Prompts


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
    assert copy.id == take.id and reopened.take_for(copy.source_lines[0].id) == take
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
    with qtbot.waitSignal(studio.document.autosaver.saved):
        studio.document.autosave_now()
    assert studio.document.recoverable()
    prompts.answers["recover"] = "discard"
    again = make_studio()
    assert again.dialogue.lines == () and not again.document.recoverable()


class GatedDisk:
    """Behind the autosave's write function: each write waits until the test opens the gate,
    then writes for real; the test sees what each write was given."""

    def __init__(self):
        self.gate = threading.Event()
        self.writes = []

    def __call__(self, pending):
        self.writes.append(pending)
        assert self.gate.wait(30)
        return write_autosave(pending)


def texts(dialogue) -> list[str]:
    return [line.text for line in dialogue.lines]


def test_a_slow_disk_never_stalls_the_window_while_autosaving(studio, qtbot):
    write_dialogue(studio, (Speaker.S1, "Hello there."), (Speaker.S2, "Hi."))
    add_take(studio.dialogue)

    def slow_disk(pending):
        time.sleep(0.5)  # a network drive, a disk spinning up
        return write_autosave(pending)

    studio.document.autosaver.write = slow_disk
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    heartbeat.start()
    qtbot.waitUntil(lambda: len(beats) >= 3)
    with qtbot.waitSignal(studio.document.autosaver.saved, timeout=10_000):
        studio.document.autosave_now()
    heartbeat.stop()
    gaps = np.diff(beats)
    assert len(beats) > 30  # the write took long enough to say something
    assert gaps.max() < 0.100, f"the GUI thread stalled for {gaps.max() * 1000:.0f} ms"
    [copy] = studio.document.recoverable()
    assert texts(recover(copy)) == ["Hello there.", "Hi."]


def test_autosaves_asked_for_while_one_is_written_become_one_more(studio, qtbot):
    disk = studio.document.autosaver.write = GatedDisk()
    saved: list[int] = []
    studio.document.autosaver.saved.connect(lambda copy, revision: saved.append(revision))
    write_dialogue(studio, (Speaker.S1, "One."))
    studio.document.autosave_now()
    qtbot.waitUntil(lambda: len(disk.writes) == 1)
    write_dialogue(studio, (Speaker.S2, "Two."))
    studio.document.autosave_now()
    write_dialogue(studio, (Speaker.S1, "Three."))
    studio.document.autosave_now()
    assert len(disk.writes) == 1  # one write at a time

    disk.gate.set()
    qtbot.waitUntil(lambda: len(saved) == 2)
    assert [len(pending.content.lines) for pending in disk.writes] == [1, 3]  # the newest content
    assert saved[-1] == studio.dialogue.revision and not studio.document.autosaver.busy
    studio.document.autosave_now()  # nothing changed since: nothing to write
    assert len(disk.writes) == 2
    [copy] = studio.document.recoverable()
    assert texts(recover(copy)) == ["One.", "Two.", "Three."]


def test_a_crash_in_the_middle_of_an_autosave_leaves_the_last_copy_recoverable(make_studio, prompts, qtbot,
                                                                               monkeypatch):
    studio = make_studio()
    write_dialogue(studio, (Speaker.S1, "Autosaved."))
    with qtbot.waitSignal(studio.document.autosaver.saved):
        studio.document.autosave_now()
    add_take(studio.dialogue)
    write_dialogue(studio, (Speaker.S2, "Not autosaved yet."))

    # The next copy gets as far as storing the take's audio; the power goes before project.json.
    power_cut, resume = threading.Event(), threading.Event()
    replace = saving.write_bytes_atomically

    def write_until_the_power_goes(path, data, **flags):
        if path.name == layout.PROJECT_FILE:
            power_cut.set()
            resume.wait(30)
        replace(path, data, **flags)

    monkeypatch.setattr(saving, "write_bytes_atomically", write_until_the_power_goes)
    studio.document.autosave_now()
    qtbot.waitUntil(power_cut.is_set)
    try:
        [copy] = studio.document.recoverable()
        assert len(list((copy.folder / "audio").iterdir())) == 1  # half written: the take's audio
        prompts.answers["recover"] = "recover"
        again = make_studio()  # the app starts again
        assert texts(again.dialogue) == ["Autosaved."] and again.dialogue.takes == ()
    finally:
        resume.set()
        studio.document.autosaver.finish()


def test_a_full_disk_is_reported_and_the_document_stays(studio, qtbot, monkeypatch):
    write_dialogue(studio, (Speaker.S1, "Precious."))
    add_take(studio.dialogue)
    fill_disk(monkeypatch, studio.document.recovery_dir, free=2000)  # room for part of the take
    with qtbot.waitSignal(studio.document.autosave_failed):
        studio.document.autosave_now()
    message = studio.window.statusBar().currentMessage()
    assert message.startswith("Autosave failed. Could not save ") and os.strerror(errno.ENOSPC) in message
    assert texts(studio.dialogue) == ["Precious."] and studio.dialogue.modified
    assert list(studio.document.recovery_dir.iterdir()) == []  # no half copy

    monkeypatch.undo()  # space was freed: the next autosave writes the copy
    with qtbot.waitSignal(studio.document.autosaver.saved):
        studio.document.autosave_now()
    [copy] = studio.document.recoverable()
    assert texts(recover(copy)) == ["Precious."]


def test_a_failed_save_says_so_and_quit_keeps_the_window_open(studio, prompts, tmp_path, monkeypatch):
    write_dialogue(studio, (Speaker.S1, "Saved before."))
    target = tmp_path / "disk" / "Talk.diastudio"
    assert studio.save_as(target)
    add_take(studio.dialogue)
    write_dialogue(studio, (Speaker.S2, "Not saved."))
    fill_disk(monkeypatch, tmp_path / "disk")

    prompts.answers["save_changes"] = "save"
    studio.window.actions.quit.trigger()  # Quit ▸ Save
    assert studio.window.isVisible()
    [(title, message)] = prompts.errors()
    assert title == "Cannot save the project"
    assert message == f"Could not save {target}: No space left on device. Nothing on disk was changed."
    assert studio.window.isWindowModified() and texts(studio.dialogue) == ["Saved before.", "Not saved."]

    monkeypatch.undo()
    assert texts(open_project(target)) == ["Saved before."]
    assert open_project(target).takes == ()


def test_save_as_on_a_full_disk_leaves_no_folder_behind(studio, prompts, tmp_path, monkeypatch):
    write_dialogue(studio, (Speaker.S1, "Nowhere to go."))
    fill_disk(monkeypatch, tmp_path / "disk", free=500)
    prompts.answers["save_project_path"] = tmp_path / "disk" / "Talk.diastudio"
    studio.window.actions.save_as.trigger()
    assert "No space left on device" in prompts.errors()[0][1]
    assert list((tmp_path / "disk").iterdir()) == []
    assert studio.document.path is None and studio.window.isWindowModified()


def test_a_save_failing_for_any_reason_keeps_the_window_open(studio, prompts, tmp_path, monkeypatch):
    write_dialogue(studio, (Speaker.S1, "Kept."))
    target = tmp_path / "Talk.diastudio"
    assert studio.save_as(target)
    write_dialogue(studio, (Speaker.S2, "Not saved."))

    def crash(*args, **kwargs):
        raise RuntimeError("an unexpected failure")

    monkeypatch.setattr(saving.json, "dumps", crash)
    prompts.answers["save_changes"] = "save"
    studio.window.actions.quit.trigger()
    assert studio.window.isVisible()
    assert prompts.errors() == [("Cannot save the project",
                                 f"Saving {target} failed: RuntimeError: an unexpected failure")]


def test_closing_the_window_lets_the_autosave_being_written_end_first(studio, qtbot, prompts, tmp_path):
    disk = studio.document.autosaver.write = GatedDisk()
    write_dialogue(studio, (Speaker.S1, "Thrown away."))
    add_take(studio.dialogue)
    studio.document.autosave_now()
    qtbot.waitUntil(lambda: len(disk.writes) == 1)

    prompts.answers["save_changes"] = "discard"
    threading.Timer(0.3, disk.gate.set).start()  # the disk answers while the window closes
    assert studio.window.close()
    assert not studio.document.autosaver.busy
    recovery = studio.document.recovery_dir
    assert not recovery.exists() or list(recovery.iterdir()) == []  # no copy, whole or half


def test_saved_projects_are_listed_as_recent(studio, prompts, tmp_path):
    write_dialogue(studio, (Speaker.S1, "One."))
    assert studio.save_as(tmp_path / "One.diastudio")
    studio.new_project()
    recent = studio.window.recent_menu.actions()
    assert [action.text() for action in recent] == [str(tmp_path / "One.diastudio")]
    recent[0].trigger()
    assert [line.text for line in studio.dialogue.lines] == ["One."]


@pytest.fixture
def window(qtbot) -> QWidget:
    """A window for the dialog to belong to."""
    window = QWidget()
    qtbot.addWidget(window)
    return window


def answer_the_open_dialog(qtbot, *keys) -> list:
    """Once Open project's dialog shows, type into its Project field (a str is typed, a key is
    pressed); returns the folders it showed meanwhile, the last before the typing ended."""
    shown = []

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, OpenProjectDialog):
            dialog.reject()  # another dialog: end it, so the test fails rather than hangs
            return
        field = dialog.findChild(QLineEdit, "fileNameEdit")
        for key in keys:
            if isinstance(key, str):
                qtbot.keyClicks(field, key)
            else:
                qtbot.keyClick(field, key)
            shown.append(Path(dialog.directory().absolutePath()))

    QTimer.singleShot(0, answer)
    return shown


@pytest.mark.parametrize("typed", ["Talk.diastudio", "Talk.diastudio/project.json"])
def test_open_project_opens_a_project_folder_as_one_document(window, qtbot, tmp_path, typed):
    save_project(open_project(EXAMPLE_PROJECT), tmp_path / "Talk.diastudio")
    answer_the_open_dialog(qtbot, typed, Qt.Key.Key_Return)
    assert Prompts(window).open_project_path(str(tmp_path)) == tmp_path / "Talk.diastudio"


def test_open_project_looks_inside_a_folder_that_is_no_project(window, qtbot, tmp_path):
    (tmp_path / "Scenes").mkdir()
    shown = answer_the_open_dialog(qtbot, "Scenes", Qt.Key.Key_Return, Qt.Key.Key_Escape)
    assert Prompts(window).open_project_path(str(tmp_path)) is None
    assert shown[1] == tmp_path / "Scenes"  # Return went inside; Escape cancelled


def test_open_project_starts_in_the_home_folder_before_any_project_was_saved(studio, prompts):
    studio.settings.project_folder = ""
    assert not studio.open_project()  # the prompt answers nothing: cancelled
    assert prompts.asked[-1] == ("open_project_path", (str(Path.home()),))


def test_a_project_opens_by_its_project_json_too(studio, tmp_path):
    save_project(open_project(EXAMPLE_PROJECT), tmp_path / "Talk.diastudio")
    assert studio.open_project(tmp_path / "Talk.diastudio" / "project.json")  # dia-studio Talk.diastudio/project.json
    assert studio.document.path == tmp_path / "Talk.diastudio"
    assert studio.window.windowTitle().startswith("Talk[*]")
    assert studio.settings.project_folder == str(tmp_path)  # where Open project starts next time


def test_a_double_clicked_project_folder_opens(qtbot, tmp_path):
    save_project(open_project(EXAMPLE_PROJECT), tmp_path / "Talk.diastudio")
    dialog = OpenProjectDialog(str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.open()
    files = dialog.findChild(QListView, "listView")
    model = files.model()

    def talk():
        root = files.rootIndex()
        names = {model.index(row, 0, root).data(): model.index(row, 0, root) for row in range(model.rowCount(root))}
        return names.get("Talk.diastudio")

    qtbot.waitUntil(lambda: talk() is not None)  # the folder is listed in the background
    where = files.visualRect(talk()).center()
    qtbot.mouseClick(files.viewport(), Qt.MouseButton.LeftButton, pos=where)  # a double click's first press
    qtbot.mouseDClick(files.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert dialog.chosen_project() == tmp_path / "Talk.diastudio"


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
