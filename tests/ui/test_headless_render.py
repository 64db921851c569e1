"""A project made in the window and rendered by `dia-studio render --project` (a real subprocess)
equals the window's own export of it, sample for sample: the whole dialogue, the selected lines,
one file per line, and a line without a take, generated headlessly as the window generates it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile
import torch
from PySide6.QtCore import QItemSelectionModel

from core.audio.formats import ExportSettings
from core.document.speakers import Speaker
from core.params import GenerationParams
from core.studio.exporting import ExportChoice
from tests.ui.conftest import TINY_CHECKPOINT, write_dialogue
from tests.ui.test_export import export_with
from tests.ui.test_generation import generate_and_wait, load_tiny_model

REPO = Path(__file__).resolve().parents[2]
WAV = ExportSettings.create("WAV")


def render(project: Path, *flags: str) -> str:
    """Run ``dia-studio render --project`` as a person would; returns what it said on stderr."""
    command = [sys.executable, "-m", "app.main", "render", "--project", str(project), *flags]
    finished = subprocess.run(command, cwd=project.parent, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert finished.returncode == 0, finished.stderr
    return finished.stderr


def the_window_s_model() -> list[str]:
    """The model flags that load what the window loaded, computing as it does (its thread count too)."""
    return ["--model", str(TINY_CHECKPOINT), "--device", "cpu", "--dtype", "float32",
            "--threads", str(torch.get_num_threads())]


def assert_same_audio(one: Path, other: Path) -> None:
    (first, first_rate), (second, second_rate) = (soundfile.read(str(path), dtype="int16") for path in (one, other))
    assert first_rate == second_rate and len(first) == len(second) > 0
    np.testing.assert_array_equal(first, second)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def made_in_two_goes(studio, qtbot) -> list[str]:
    """Four lines (the third empty) generated whole, then line 2 again: the export cuts two takes."""
    load_tiny_model(studio, qtbot)
    ids = write_dialogue(studio, (Speaker.S1, "Hello there."), (Speaker.S2, "Fine, thanks."), (Speaker.S1, ""),
                         (Speaker.S1, "Good."))
    studio.dialogue.set_params(GenerationParams(seed=5))
    generate_and_wait(studio, qtbot)
    studio.dialogue.set_params(GenerationParams(seed=6))
    generate_and_wait(studio, qtbot, [ids[1]])
    assert len({studio.dialogue.take_for(i).id for i in (ids[0], ids[1], ids[3])}) == 2
    return ids


def test_the_whole_dialogue_and_the_selected_lines_render_as_the_window_exports_them(studio, qtbot, prompts,
                                                                                      tmp_path):
    ids = made_in_two_goes(studio, qtbot)
    window_whole = export_with(studio, qtbot, prompts, ExportChoice(WAV, tmp_path / "window.wav", False, False, None))
    timeline = studio.window.timeline
    timeline.select_line(ids[1])
    timeline.selectionModel().select(timeline.timeline.index(3, 0), QItemSelectionModel.SelectionFlag.Select
                                     | QItemSelectionModel.SelectionFlag.Rows)
    selected = tuple(timeline.selected_line_ids())
    assert selected == (ids[1], ids[3])
    window_some = export_with(studio, qtbot, prompts,
                              ExportChoice(WAV, tmp_path / "window-some.wav", False, True, None, selected))
    project = tmp_path / "Talk.diastudio"
    assert studio.save_as(project)

    said = render(project, "--out", str(tmp_path / "headless.wav"))
    render(project, "--out", str(tmp_path / "headless-some.wav"), "--lines", "2,4", "--subtitles")

    first, *notes = said.strip().splitlines()
    assert "loading" not in said and first == f"wrote {tmp_path / 'headless.wav'}"
    assert all(note.startswith("note: the checks flag ") for note in notes)  # the tiny model's noise, checked
    assert_same_audio(window_whole[0], tmp_path / "headless.wav")
    assert_same_audio(window_some[0], tmp_path / "headless-some.wav")
    assert (tmp_path / "headless-some.srt").read_text(encoding="utf-8") == window_some[1].read_text(encoding="utf-8")


def test_one_file_per_line_renders_as_the_window_exports_it(studio, qtbot, prompts, tmp_path):
    made_in_two_goes(studio, qtbot)
    (tmp_path / "window").mkdir()
    window_files = export_with(studio, qtbot, prompts, ExportChoice(WAV, tmp_path / "window", True, False, None))
    project = tmp_path / "Talk.diastudio"
    assert studio.save_as(project)

    render(project, "--per-line", "--format", "wav", "--out", str(tmp_path / "headless"))

    headless_files = sorted((tmp_path / "headless").iterdir())
    assert [path.name for path in headless_files] == [path.name for path in window_files] == [
        "001 Speaker 1.wav", "002 Speaker 2.wav", "004 Speaker 1.wav"]
    for window_file, headless_file in zip(window_files, headless_files):
        assert_same_audio(window_file, headless_file)


def test_a_line_without_a_take_is_generated_headlessly_as_the_window_generates_it(voiced, qtbot, prompts,
                                                                                 tmp_path):
    studio = voiced  # speaker 1 speaks with a part of the fixture's voice (short: a quicker prompt)
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.trim(Speaker.S1, 0.5, 2.0)
    load_tiny_model(studio, qtbot)
    first, _ = write_dialogue(studio, (Speaker.S1, "Hello there."), (Speaker.S2, "Fine, thanks."))
    studio.dialogue.set_params(GenerationParams(seed=5))
    generate_and_wait(studio, qtbot)
    third = studio.dialogue.add_line(Speaker.S1, "Good.").id
    studio.dialogue.set_params(GenerationParams(seed=9))
    project = tmp_path / "Talk.diastudio"
    assert studio.save_as(project)
    saved = snapshot(project)

    said = render(project, "--out", str(tmp_path / "headless.wav"), *the_window_s_model())

    assert "generating line 3\ntake 1/1: seed 9" in said
    assert snapshot(project) == saved  # the take made for the render is not put into the project
    generate_and_wait(studio, qtbot, [third])  # in the window: line 3 selected and generated
    window = export_with(studio, qtbot, prompts, ExportChoice(WAV, tmp_path / "window.wav", False, False, None))
    assert studio.dialogue.take_for(third).seed == 9 and studio.dialogue.take_for(first) is studio.dialogue.takes[0]
    assert_same_audio(window[0], tmp_path / "headless.wav")
