"""A take records the model that made it (as loaded: a Hub id or a local folder), through the
generation's result and the project file; params.model names only the model asked for."""

import json

import numpy as np
import pytest

from core.dia2.events import TakeResult
from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.takes import Take
from core.params import GenerationParams
from core.project.layout import ProjectFileError
from core.project.opening import open_project
from core.project.saving import save_project
from core.studio.take_assembly import take_from_result

RATE = 24_000
FOLDER = "/models/my-dia2-finetune"


@pytest.fixture
def saved(tmp_path):
    """A project with a take that knows its model and one that does not."""
    dialogue = Dialogue.from_script("[S1] Hello.")
    audio = AudioClip.from_samples(np.full(1920 * 4, 0.1, np.float32), RATE)
    dialogue.add_takes([Take(GenerationParams(seed=1), audio, dialogue.lines, model=FOLDER),
                        Take(GenerationParams(seed=2), audio, dialogue.lines)])
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    return folder


def test_the_take_of_a_result_keeps_its_model():
    dialogue = Dialogue.from_script("[S1] Hello.")
    result = TakeResult(0, 1, GenerationParams(seed=1), np.zeros(RATE, np.float32), RATE,
                        np.zeros((32, 12), np.int64), [("Hello.", 0.0)], model=FOLDER)
    take = take_from_result(result, dialogue.lines)
    assert take.model == FOLDER and take.params.model == "dia2-2b"


def test_the_model_goes_through_save_and_open(saved):
    assert [take.model for take in open_project(saved).takes] == [FOLDER, None]


def test_a_project_saved_before_models_were_kept_opens_without_them(saved):
    data = json.loads((saved / "project.json").read_text("utf-8"))
    for item in data["takes"]:
        del item["model"]
    (saved / "project.json").write_text(json.dumps(data), "utf-8")
    assert [take.model for take in open_project(saved).takes] == [None, None]


def test_a_model_that_is_not_text_is_refused(saved):
    data = json.loads((saved / "project.json").read_text("utf-8"))
    data["takes"][0]["model"] = 2
    (saved / "project.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(ProjectFileError, match=r"takes\[0\]\.model should be text or null"):
        open_project(saved)
