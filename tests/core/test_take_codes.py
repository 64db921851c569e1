"""Takes keep the codes their audio was decoded from, in the project folder beside the audio."""

import json

import numpy as np
import pytest

from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.errors import DialogueError
from core.document.takes import Take
from core.params import GenerationParams
from core.project.layout import ProjectFileError
from core.project.opening import open_project
from core.project.saving import save_project

RATE = 24_000


def take(dialogue, seed, codes):
    audio = AudioClip.from_samples(np.full(1920 * 4, 0.1, np.float32), RATE)
    return Take(GenerationParams(seed=seed), audio, dialogue.lines, codes=codes)


@pytest.fixture
def saved(tmp_path):
    """A project with a take that keeps its codes and one that has none."""
    dialogue = Dialogue.from_script("[S1] Hello. [S2] Hi.")
    codes = np.arange(32 * 4).reshape(32, 4) * 15
    dialogue.add_takes([take(dialogue, 1, codes), take(dialogue, 2, None)])
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    return dialogue, folder


def test_codes_go_through_save_and_open_exactly(saved):
    dialogue, folder = saved
    coded, plain = open_project(folder).takes
    np.testing.assert_array_equal(coded.codes, np.arange(32 * 4).reshape(32, 4) * 15)
    assert coded.codes.dtype == np.int16 and not coded.codes.flags.writeable
    assert plain.codes is None
    data = json.loads((folder / "project.json").read_text("utf-8"))
    name = f"audio/{dialogue.takes[0].audio.id}.codes.npy"
    assert data["takes"][0]["codes"] == {"file": name, "codebooks": 32, "frames": 4}
    assert data["takes"][1]["codes"] is None
    assert (folder / name).is_file()


def test_a_project_saved_before_codes_were_kept_opens_without_them(saved):
    _, folder = saved
    data = json.loads((folder / "project.json").read_text("utf-8"))
    for item in data["takes"]:
        del item["codes"]
    (folder / "project.json").write_text(json.dumps(data), "utf-8")
    assert [t.codes for t in open_project(folder).takes] == [None, None]


def test_deleting_a_take_deletes_its_codes_at_the_next_save(saved):
    dialogue, folder = saved
    name = f"{dialogue.takes[0].audio.id}.codes.npy"
    dialogue.delete_take(dialogue.takes[0].id)
    save_project(dialogue, folder)
    assert not (folder / "audio" / name).exists()


@pytest.mark.parametrize("damage", [
    lambda path: path.unlink(),
    lambda path: path.write_bytes(b"not numpy"),
    lambda path: path.write_bytes(b""),
    lambda path: np.save(path, np.zeros((32, 3), np.int16)),
    lambda path: np.save(path, np.zeros((32, 4), np.float32)),
], ids=["missing", "not-numpy", "empty", "wrong-shape", "not-integers"])
def test_a_damaged_codes_file_costs_only_the_codes_not_the_project(saved, damage):
    dialogue, folder = saved
    damage(folder / "audio" / f"{dialogue.takes[0].audio.id}.codes.npy")
    coded, plain = open_project(folder).takes
    assert coded.codes is None and plain.codes is None
    assert coded.audio.duration_s == dialogue.takes[0].audio.duration_s  # the take itself is whole


def test_a_codes_entry_naming_a_file_outside_the_audio_folder_is_refused(saved):
    _, folder = saved
    data = json.loads((folder / "project.json").read_text("utf-8"))
    data["takes"][0]["codes"]["file"] = "../elsewhere.npy"
    (folder / "project.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(ProjectFileError, match=r"takes\[0\]\.codes\.file"):
        open_project(folder)


@pytest.mark.parametrize(("codes", "problem"), [
    (np.zeros(4, np.int64), "shape"),
    (np.zeros((32, 4), np.float32), "whole numbers"),
    (np.full((32, 4), -1), "from -1 to -1"),
])
def test_a_take_refuses_codes_that_are_not_code_indices(codes, problem):
    dialogue = Dialogue.from_script("[S1] Hello.")
    with pytest.raises(DialogueError, match=problem):
        take(dialogue, 1, codes)
