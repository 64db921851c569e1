"""`dia-studio render --project`: which lines, the files written, the takes generated and kept
only when asked, and one clear line for every way it cannot go (the window's own export and
generation against it: tests/ui/test_headless_render.py)."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.main import main
from core.dia2.events import TakeResult
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.params import GenerationParams
from core.project.opening import open_project
from core.project.saving import save_project
from core.studio.dialogue_generation import DialogueGeneration
from core.studio.take_checking import depends_on
from core.take_checks.verdicts import CheckedTake, Flag, LineReport, TakeReport, Verdict
from tests.app.test_cli_render import UNWRITABLE, needs_unwritable
from tests.core.dia2.golden import CHECKPOINT
from tests.core.studio.test_dialogue_generation import ScriptedEngine

MODEL = ["--model", str(CHECKPOINT), "--device", "cpu", "--threads", "1"]


def project_with(tmp_path: Path, texts: list[str], generated: int) -> Path:
    """A saved project of ``texts`` (speakers taking turns) whose first ``generated`` lines have a take."""
    dialogue = Dialogue([DialogueLine(Speaker.S1 if i % 2 == 0 else Speaker.S2, text) for i, text in enumerate(texts)],
                        params=GenerationParams(seed=4))
    if generated:
        generation = DialogueGeneration(dialogue, [line.id for line in dialogue.lines[:generated]])
        for event in generation.events(ScriptedEngine(), threading.Event()):
            if isinstance(event, TakeResult):
                generation.add_result(event)
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_generated_lines_render_without_a_model_and_the_project_is_left_alone(tmp_path, capsys):
    folder = project_with(tmp_path, ["one two", "", "three", "four"], generated=4)
    before = snapshot(folder)
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "all.flac"), "--subtitles"]) == 0
    assert main(["render", "--project", str(folder / "project.json"), "--out", str(tmp_path / "some.wav"),
                 "--lines", "3-4"]) == 0
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "lines"), "--per-line",
                 "--lines", " 4, 1 "]) == 0
    said = capsys.readouterr().err
    assert f"wrote {tmp_path / 'all.flac'}\nwrote {tmp_path / 'all.srt'}" in said and "loading" not in said

    assert soundfile.info(str(tmp_path / "all.flac")).duration == pytest.approx(4 * 0.08)
    assert "Speaker 1: three\n\n3\n" in (tmp_path / "all.srt").read_text(encoding="utf-8")
    assert soundfile.info(str(tmp_path / "some.wav")).duration == pytest.approx(2 * 0.08)
    assert sorted(path.name for path in (tmp_path / "lines").iterdir()) == ["001 Speaker 1.mp3", "004 Speaker 2.mp3"]
    assert snapshot(folder) == before


def test_with_keep_takes_the_lines_generated_are_saved_in_the_project(tmp_path, capsys):
    # (without it the project is left as it was: tests/ui/test_headless_render.py)
    folder = project_with(tmp_path, ["Hello there.", "Hi!", "How are you?"], generated=2)
    out = tmp_path / "talk.wav"
    assert main(["render", "--project", str(folder), "--out", str(out), "--keep-takes", *MODEL]) == 0
    said = capsys.readouterr().err
    assert "generating line 3\ntake 1/1: seed 4" in said and f"saved the new takes in {folder}\nwrote {out}" in said
    saved = open_project(folder)
    assert [saved.status(line.id) for line in saved.lines] == [LineStatus.GENERATED] * 3
    assert len(saved.takes) == 2 and saved.take_for(saved.lines[2].id) is saved.takes[1]

    # Now every line has its take: no model is needed, and what was kept is what is heard.
    again = tmp_path / "again.wav"
    assert main(["render", "--project", str(folder), "--out", str(again), "--keep-takes"]) == 0
    assert "there is no new take to keep" in capsys.readouterr().err
    np.testing.assert_array_equal(soundfile.read(str(again), dtype="int16")[0],
                                  soundfile.read(str(out), dtype="int16")[0])


def test_regenerate_makes_the_chosen_lines_again(tmp_path, capsys):
    folder = project_with(tmp_path, ["Hello there.", "Hi!", "How are you?"], generated=3)
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "x.wav"), "--lines", "2-3",
                 "--regenerate", "--keep-takes", *MODEL]) == 0
    assert "generating lines 2–3" in capsys.readouterr().err
    saved = open_project(folder)
    first, fresh = saved.takes
    assert [saved.take_for(line.id) for line in saved.lines] == [first, fresh, fresh]


@pytest.mark.parametrize("texts, generated, flags, message", [
    (["a", "b"], 2, ["--lines", "1-x"], "--lines 1-x: '1-x' is not a line number or a range of them; give them like 1-3,5"),
    (["a", "b"], 2, ["--lines", "1,"], "'' is not a line number"),
    (["a", "b"], 2, ["--lines", "3"], "--lines 3: the project has lines 1 to 2"),
    (["a", "b"], 2, ["--lines", "0-1"], "the project has lines 1 to 2"),
    (["a", "b"], 2, ["--lines", "2-1"], "--lines 2-1: the range 2-1 goes backwards"),
    (["a", "", "b"], 1, ["--lines", "2"], "nothing to render: --lines 2 names no line with words to speak"),
    ([], 0, [], "nothing to render: the project has no lines to speak"),
    (["a", "b", "c"], 1, [], "lines 2–3 have no current take: give the model to generate them with --model"),
    (["a", "b", "c"], 3, ["--lines", "3", "--regenerate"], "--regenerate makes line 3 again: give the model"),
    (["a", "b"], 2, ["--seed", "3"], "--seed does not apply to --project: a project is generated with its own "
                                     "voices and parameters"),
    (["a", "b"], 2, ["--format", "mp3"], "--out out.wav does not end in .mp3"),
    (["a", "b"], 2, ["--bitrate", "128"], "audioSettings"),
    (["a", "b"], 2, ["--per-line"], "--out {out} is a file: --per-line writes one file per line into a folder"),
    # Refused before the lines without a take are generated, not once the export writes them.
    (["a", "b", "c"], 1, ["--model", "/no/model", "--loudness", "50"], "--loudness 50: give -70 to 0 LUFS"),
    pytest.param(["a", "b"], 2, ["--out", str(UNWRITABLE / "out.wav")], f"the folder {UNWRITABLE} cannot be written to",
                 marks=needs_unwritable),
    pytest.param(["a", "b"], 2, ["--per-line", "--out", str(UNWRITABLE / "lines")],
                 f"the folder {UNWRITABLE} cannot be written to", marks=needs_unwritable),
])
def test_bad_input_gives_one_clear_line_and_changes_nothing(tmp_path, capsys, texts, generated, flags, message):
    folder = project_with(tmp_path, texts, generated)
    before = snapshot(folder)
    out = tmp_path / "out.wav"
    if "--per-line" in flags:
        out.write_bytes(b"an older render")
    assert main(["render", "--project", str(folder), "--out", str(out), *flags]) == 2
    error = capsys.readouterr().err
    assert message.format(out=out) in error and "Traceback" not in error and "loading" not in error
    assert snapshot(folder) == before
    assert not out.exists() or out.read_bytes() == b"an older render"


def test_what_is_not_a_project_is_named(tmp_path, capsys):
    out = str(tmp_path / "x.wav")
    assert main(["render", "--project", str(tmp_path / "Missing.diastudio"), "--out", out]) == 2
    assert f"there is no project at {tmp_path / 'Missing.diastudio'}" in capsys.readouterr().err
    assert main(["render", "--project", str(tmp_path), "--out", out]) == 2
    assert f"{tmp_path} is not a Dia Studio project: it has no project.json" in capsys.readouterr().err
    folder = project_with(tmp_path, ["a"], 1)
    data = json.loads((folder / "project.json").read_text(encoding="utf-8"))
    data["lines"][0]["speaker"] = "S3"
    (folder / "project.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["render", "--project", str(folder), "--out", out]) == 2
    assert "in project.json, lines[0]" in capsys.readouterr().err
    (folder / "project.json").write_text("{", encoding="utf-8")
    assert main(["render", "--project", str(folder), "--out", out]) == 2
    assert "project.json is damaged" in capsys.readouterr().err
    assert not Path(out).exists()


@pytest.mark.parametrize("flag", ["--lines", "--per-line", "--regenerate", "--keep-takes"])
def test_the_project_flags_are_refused_with_a_script(tmp_path, capsys, flag):
    flags = [flag, "1"] if flag == "--lines" else [flag]
    assert main(["render", "--script", "[S1] Hi.", "--out", str(tmp_path / "x.wav"), *flags]) == 2
    assert f"{flag} applies only to --project" in capsys.readouterr().err


def test_the_lines_the_kept_takes_checks_flag_are_named(tmp_path, capsys):
    folder = project_with(tmp_path, ["one two", "three", "four"], generated=3)
    dialogue = open_project(folder)
    take = dialogue.takes[0]
    flag = Flag("speaker", "sounds like Speaker 1 (S1): 0.70 to Speaker 2, 0.91 to Speaker 1", Verdict.BAD, 0.1)
    report = TakeReport((LineReport(1, "S1", (0.0, 0.16)), LineReport(2, "S2", (0.16, 0.24), (flag,)),
                         LineReport(3, "S1", (0.24, 0.32))))
    dialogue.set_checks(take.id, CheckedTake(depends_on(dialogue.speakers, take), report))
    save_project(dialogue, folder)
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "all.wav")]) == 0
    assert ("note: the checks flag line 2 in the takes kept: listen to it, or make it until good in the studio "
            "(Ctrl+F5)") in capsys.readouterr().err
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "some.wav"), "--lines", "3"]) == 0
    assert "checks flag" not in capsys.readouterr().err


def test_stems_of_a_project_are_named_for_its_speakers_and_add_up_to_its_file(tmp_path, capsys):
    folder = project_with(tmp_path, ["one two", "three", "four"], generated=3)
    dialogue = open_project(folder)
    dialogue.edit_speaker(Speaker.S2, name="Dr. Theo")
    save_project(dialogue, folder)
    out = tmp_path / "talk.wav"
    assert main(["render", "--project", str(folder), "--out", str(out), "--stems"]) == 0
    said = capsys.readouterr().err
    stems = [tmp_path / "talk.S1-Speaker_1.wav", tmp_path / "talk.S2-Dr_Theo.wav"]
    assert f"wrote {out}\nwrote {stems[0]}\nwrote {stems[1]}" in said
    mix, first, second = (soundfile.read(path, dtype="int16")[0] for path in (out, *stems))
    assert len(mix) == len(first) == len(second) == round(4 * 0.08 * 24000)
    assert np.array_equal(first.astype(np.int32) + second, mix)
    theirs = slice(round(2 * 0.08 * 24000), round(3 * 0.08 * 24000))  # "three", the third word of four
    assert np.array_equal(np.flatnonzero(second), np.arange(len(mix))[theirs])
    assert not first[theirs].any() and first[:theirs.start].all() and first[theirs.stop:].all()
