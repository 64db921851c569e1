"""`dia-studio render --project` reads the lines as the window does: the project's lexicon over the
shared one of the studio's data folder, so takes made with them are current (no model needed), and
what either lexicon had wrong is said."""

import json
import threading

import pytest

from app.main import main
from core.dia2.events import TakeResult
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams
from core.project.saving import save_project
from core.studio.dialogue_generation import DialogueGeneration
from core.studio.lexicon_use import SHARED_LEXICON_FILE, write_shared_lexicon
from tests.core.studio.test_dialogue_generation import ScriptedEngine

SHARED = Lexicon((LexiconEntry("Nguyen", "Win"),))


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """The studio's data folder, as Qt finds it from XDG_DATA_HOME on Linux."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "Dia Studio" / "Dia Studio"


def generated_project(tmp_path, shared: Lexicon) -> tuple:
    """A project of one line, generated in the window's way with ``shared`` as its shared lexicon."""
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hello Nguyen."), DialogueLine(Speaker.S2, "Hi SQL.")],
                        params=GenerationParams(seed=4), lexicon=Lexicon((LexiconEntry("SQL", "sequel"),)))
    dialogue.use_shared_lexicon(shared)
    generation = DialogueGeneration(dialogue)
    engine = ScriptedEngine()
    for event in generation.events(engine, threading.Event()):
        if isinstance(event, TakeResult):
            generation.add_result(event)
    assert engine.requests[0].script == f"[S1] Hello {'Win' if shared.entries else 'Nguyen'}. [S2] Hi sequel."
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    return folder


def test_takes_made_with_the_shared_lexicon_render_without_a_model(tmp_path, data_folder, capsys):
    write_shared_lexicon(data_folder, SHARED)
    folder = generated_project(tmp_path, SHARED)
    out = tmp_path / "talk.wav"
    assert main(["render", "--project", str(folder), "--out", str(out), "--subtitles"]) == 0
    assert "Hello Nguyen." in (tmp_path / "talk.srt").read_text("utf-8")  # the written words
    assert "note:" not in capsys.readouterr().err


def test_without_the_shared_lexicon_a_line_it_respelled_needs_generating_again(tmp_path, data_folder, capsys):
    folder = generated_project(tmp_path, SHARED)  # no shared lexicon in this studio's folder
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "talk.wav")]) != 0
    assert "line 1 has no current take: give the model" in capsys.readouterr().err


def test_what_the_lexicons_had_wrong_is_said_and_the_render_goes_on(tmp_path, data_folder, capsys):
    folder = generated_project(tmp_path, Lexicon())
    data = json.loads((folder / "project.json").read_text("utf-8"))
    data["lexicon"]["entries"].append({"written": "x", "spoken": ""})
    (folder / "project.json").write_text(json.dumps(data), "utf-8")
    data_folder.mkdir(parents=True)
    (data_folder / SHARED_LEXICON_FILE).write_text("{", "utf-8")
    assert main(["render", "--project", str(folder), "--out", str(tmp_path / "talk.wav"), "--lines", "1"]) == 0
    said = capsys.readouterr().err
    assert "note: Part of the project's lexicon cannot be read: entry 2:" in said
    assert f"note: The lexicon {data_folder / SHARED_LEXICON_FILE} cannot be read: it is not valid JSON" in said
    assert "The project's own lexicon is used alone." in said
