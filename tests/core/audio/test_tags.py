from __future__ import annotations

import json

import numpy as np

from core.audio.export import export_audio
from core.audio.formats import ExportSettings
from core.audio.tags import MAX_TEXT_CHARS, ExportMetadata, TakeUsed, as_made, read_tags


def test_tags_name_the_take_and_hold_how_it_was_made():
    metadata = ExportMetadata(title="Take 3", speakers=("Ada", "Brook"), seed=7, parameters={"CFGScale": 3.0})
    tags = metadata.to_tags()
    assert tags["title"] == "Take 3"
    assert tags["artist"] == "Ada, Brook"
    made_with = json.loads(tags["comment"])
    assert made_with == {
        "software": "Dia Studio",
        "seed": 7,
        "speakers": ["Ada", "Brook"],
        "parameters": {"CFGScale": 3.0},
    }
    assert ExportMetadata.from_tags(tags) == metadata


def test_the_model_recorded_is_the_one_that_made_the_take():
    asked = {"model": "dia2-2b", "seed": 3, "CFGScale": 3.0}
    assert as_made(asked, "/models/finetune") == {"model": "finetune (local folder)", "seed": 3, "CFGScale": 3.0}
    assert as_made(asked, "nari-labs/Dia2-1B")["model"] == "nari-labs/Dia2-1B"
    assert as_made(asked, None) == {"seed": 3, "CFGScale": 3.0}  # not known: not claimed


def test_one_take_gives_its_seed_and_parameters():
    parameters = {"model": "nari-labs/Dia2-2B", "seed": 11, "numberResults": 2, "settings": {"topK": 50}}
    metadata = ExportMetadata.of_takes("Talk", ("Ada",), [((1, 2), parameters)])
    assert metadata == ExportMetadata("Talk", ("Ada",), 11, parameters)


def test_several_takes_say_what_they_share_and_each_its_own_lines_and_seed():
    first = {"model": "m", "seed": 1, "numberResults": 1, "settings": {"topK": 50, "temperature": 0.6}}
    second = {"seed": 2, "numberResults": 2, "settings": {"topK": 50, "temperature": 0.9}}
    metadata = ExportMetadata.of_takes("Talk", ("Ada", "Brook"), [((1, 2, 4), first), ((3,), second)])
    made_with = json.loads(metadata.to_tags()["comment"])
    assert "seed" not in made_with  # neither take's seed is the file's
    assert made_with["parameters"] == {"settings": {"topK": 50}}
    assert made_with["takes"] == [
        {"lines": [1, 2, 4], "parameters": {"model": "m", "seed": 1, "numberResults": 1,
                                            "settings": {"temperature": 0.6}}},
        {"lines": [3], "parameters": {"seed": 2, "numberResults": 2, "settings": {"temperature": 0.9}}},
    ]
    assert ExportMetadata.from_tags(metadata.to_tags()) == metadata
    assert metadata.takes[1] == TakeUsed((3,), {"seed": 2, "numberResults": 2, "settings": {"temperature": 0.9}})


def test_takes_of_one_seed_share_it():
    metadata = ExportMetadata.of_takes("", (), [((1,), {"seed": 5, "CFGScale": 3.0}),
                                                ((2,), {"seed": 5, "CFGScale": 4.0})])
    assert metadata.seed == 5 and metadata.parameters == {"seed": 5}


def test_speaker_names_with_commas_survive_the_round_trip():
    metadata = ExportMetadata(speakers=("Smith, Jane", "Doe, John"), seed=1)
    assert ExportMetadata.from_tags(metadata.to_tags()).speakers == ("Smith, Jane", "Doe, John")


def test_a_long_script_is_shortened_in_the_tag_only():
    script = "[S1] " + "word " * 2000
    metadata = ExportMetadata(seed=1, parameters={"positivePrompt": script, "settings": {"note": script}})
    made_with = json.loads(metadata.to_tags()["comment"])
    assert len(made_with["parameters"]["positivePrompt"]) == MAX_TEXT_CHARS
    assert made_with["parameters"]["positivePrompt"].endswith("…")
    assert script.startswith(made_with["parameters"]["positivePrompt"][:-1])
    assert len(made_with["parameters"]["settings"]["note"]) == MAX_TEXT_CHARS
    assert metadata.parameters["positivePrompt"] == script


def test_a_file_from_elsewhere_gives_its_title_only():
    assert ExportMetadata.from_tags({"title": "Song", "comment": "ripped by me"}) == ExportMetadata(title="Song")
    assert ExportMetadata.from_tags({"comment": '{"software": "Other"}'}) == ExportMetadata()
    assert ExportMetadata.from_tags({}) == ExportMetadata()


def test_a_long_script_is_shortened_in_the_file(tmp_path):
    metadata = ExportMetadata(seed=1, parameters={"positivePrompt": "x" * 500_000})
    path = export_audio(np.zeros(24000, np.float32), tmp_path / "long.wav", ExportSettings.create("WAV"), metadata)
    tags = read_tags(path)
    assert len(tags["comment"]) < 2 * MAX_TEXT_CHARS
    assert ExportMetadata.from_tags(tags).parameters["positivePrompt"] == "x" * (MAX_TEXT_CHARS - 1) + "…"
