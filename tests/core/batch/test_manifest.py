"""Manifests → renders: the three forms, paths beside the manifest, and every problem found at
once, each naming its entry and field, before anything renders."""

import json
import shutil
from pathlib import Path

import pytest

from core.audio.formats import AudioFormat, ExportSettings
from core.batch.jobs import ProjectRender, ScriptRender
from core.batch.manifest import FolderOptions, ManifestError, read_manifest

VOICES = Path(__file__).parents[2] / "fixtures" / "voices"
EXAMPLE = Path(__file__).parents[3] / "resources" / "example" / "Example.diastudio"
FOLDER = FolderOptions(None, ExportSettings.create("MP3"))


def read(folder: Path, content, name="batch.json", options=FOLDER) -> list:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return read_manifest(path, "dia2-2b", options)


def problems(folder: Path, content, name="batch.json") -> list[str]:
    with pytest.raises(ManifestError) as raised:
        read(folder, content, name)
    assert "nothing was rendered" in str(raised.value)
    return raised.value.problems


def test_a_json_list_with_defaults_gives_renders_with_paths_beside_the_manifest(here):
    jobs = read(here, {"defaults": {"seed": 5, "CFGScale": 2.5, "settings": {"topK": 40, "temperature": 0.3}},
                       "renders": [
                           {"script": "[S1] Hello. [S2] Hi!", "output": "out/a.wav"},
                           {"scriptFile": "scene.txt", "voices": [{"audio": "s1.wav", "words": "s1.words.json"}],
                            "output": "b.ogg", "numberResults": 2, "settings": {"topK": 7},
                            "audioSettings": {"sampleRate": 48000, "bitrate": 96}},
                       ]})
    first, second = jobs
    assert isinstance(first, ScriptRender) and first.name == "renders[0]"
    assert first.outputs == (here / "out" / "a.wav",) and first.settings.format is AudioFormat.WAV
    assert (first.params.seed, first.params.cfg_scale, first.params.top_k, first.params.temperature) == (5, 2.5, 40, 0.3)
    assert second.script == "[S1] From a file."
    assert second.outputs == (here / "b_take1.ogg", here / "b_take2.ogg")  # numbered as render numbers them
    assert (second.params.top_k, second.params.temperature) == (7, 0.3)  # settings merged key by key
    assert (second.settings.sample_rate, second.settings.bitrate_kbps) == (48000, 96)
    voice, = second.voices
    assert voice.path == here / "s1.wav" and [w.text for w in voice.words] == ["Hello", "there."]


def test_without_a_seed_each_render_gets_one_and_the_same_voice_is_read_once(here):
    jobs = read(here, [{"script": "[S1] One.", "voices": ["s1.wav"], "output": "1.wav"},
                       {"script": "[S1] Two.", "voices": ["s1.wav"], "output": "2.wav"}])
    assert all(job.params.seed is not None for job in jobs)
    assert jobs[0].voices[0] is jobs[1].voices[0]  # transcribed and encoded once for the batch
    assert jobs[0].voices[0].words is None  # no word list: Whisper hears it when it renders


def test_a_csv_gives_the_same_renders_named_by_their_lines(here):
    jobs = read(here, "script,voice1,voice1_text,output,seed,cfg_scale,top_k,include_prefix,sample_rate,bitrate\n"
                      '"[S1] Hello, there.",s1.wav,Hello there,a.mp3,3,2.5,40,yes,44100,128\n'
                      "\n"
                      "[S1] Plain.,,,sub/b.flac,,,,,,\n", name="batch.csv")
    first, second = jobs
    assert (first.name, second.name) == ("line 2", "line 4")
    assert first.script == "[S1] Hello, there." and first.voices[0].text == "Hello there"
    assert (first.params.seed, first.params.cfg_scale, first.params.top_k, first.params.include_prefix) == \
        (3, 2.5, 40, True)
    assert (first.settings.sample_rate, first.settings.bitrate_kbps) == (44100, 128)
    assert second.voices == () and second.params.cfg_scale == 3.0 and second.outputs == (here / "sub" / "b.flac",)


def test_a_folder_gives_its_projects_each_to_its_own_file(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "Example.diastudio")
    shutil.copytree(EXAMPLE, tmp_path / "Other.diastudio")
    (tmp_path / "notes.txt").write_text("not a project")
    settings = ExportSettings.create("OGG", sample_rate=48000)
    jobs = read_manifest(tmp_path, "dia2-2b", FolderOptions(tmp_path / "renders", settings))
    assert [job.name for job in jobs] == ["Example.diastudio", "Other.diastudio"]
    assert all(isinstance(job, ProjectRender) and job.untaken == "lines 1–4" for job in jobs)  # the example has no takes
    assert jobs[0].outputs == (tmp_path / "renders" / "Example.ogg",) and jobs[0].choice.settings == settings


def test_stems_are_asked_render_by_render_and_their_files_are_among_the_render_s(here):
    jobs = read(here, {"defaults": {"stems": True}, "renders": [
        {"script": "[S1] Hello. [S2] Hi!", "output": "a.wav", "numberResults": 2},
        {"script": "[S2] Just me.", "output": "b.ogg"},
        {"script": "[S1] Hello. [S2] Hi!", "output": "c.mp3", "stems": False}]})
    assert [job.stems for job in jobs] == [True, True, False]
    assert jobs[0].take_files == (here / "a_take1.wav", here / "a_take2.wav")
    assert jobs[0].outputs == tuple(here / name for name in ("a_take1.wav", "a_take1.S1.wav", "a_take1.S2.wav",
                                                               "a_take2.wav", "a_take2.S1.wav", "a_take2.S2.wav"))
    assert jobs[1].outputs == (here / "b.ogg", here / "b.S2.ogg") and jobs[2].outputs == (here / "c.mp3",)
    csv = read(here, "script,output,stems\n[S1] Hi. [S2] Ho.,d.flac,true\n[S1] Hi.,e.flac,\n", name="batch.csv")
    assert [job.outputs for job in csv] == [(here / "d.flac", here / "d.S1.flac", here / "d.S2.flac"),
                                            (here / "e.flac",)]


def test_a_folder_s_stems_are_named_for_each_project_s_speakers(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "Example.diastudio")
    options = FolderOptions(tmp_path / "renders", ExportSettings.create("WAV"), stems=True)
    job, = read_manifest(tmp_path, "dia2-2b", options)
    assert job.choice.stems
    assert job.outputs == tuple(tmp_path / "renders" / name for name in ("Example.wav", "Example.S1-Maya.wav",
                                                                         "Example.S2-Theo.wav"))


@pytest.mark.parametrize("renders, expected", [
    ([{"script": "[S1] Hi.", "voices": ["s9.wav"], "output": "a.wav"}],
     ["renders[0].voices[0]: no file s9.wav beside the manifest"]),
    ([{"script": "[S1] Hi.", "output": "a.wav"}, {"script": "[S1] Hi.", "voices": ["s1.wav", {"text": "hm"}],
                                                   "output": "b.wav"}],
     ["renders[1].voices[1]: give the voice's audio file"]),
    ([{"script": "[S1] Hi.", "voices": [{"audio": "s1.wav", "words": "s1.words.json", "text": "Hi"}], "output": "a.wav"}],
     ["renders[0].voices[0]: give its text or its words (a word list), not both"]),
    ([{"script": "[S1] Hi.", "voices": [str(VOICES / "silence_3s.wav")], "output": "a.wav"}],
     ["renders[0].voices[0]: ", "silence_3s.wav' is silent"]),
    ([{"script": "[S1] Hi.", "voices": ["s1.wav", "s1.wav", "s1.wav"], "output": "a.wav"}],
     ["renders[0].voices: give a list of at most 2 voices"]),
    ([{"output": "a.wav"}], ["renders[0].script: give the dialogue as script (its text) or scriptFile"]),
    ([{"script": "[S1] Hi.", "scriptFile": "scene.txt", "output": "a.wav"}], ["renders[0].script: give the dialogue"]),
    ([{"scriptFile": "missing.txt", "output": "a.wav"}], ["renders[0].scriptFile: no file missing.txt beside the manifest"]),
    ([{"script": "  ", "output": "a.wav"}], ["renders[0].script: the script is empty"]),
    ([{"script": "[S1] Hi."}], ["renders[0].output: give the file to write"]),
    ([{"script": "[S1] Hi.", "output": "a.aiff"}], ["renders[0].output: a.aiff does not end in .mp3, .wav, .flac or .ogg"]),
    ([{"script": "[S1] Hi.", "output": "scene.txt/a.wav"}], ["renders[0].output: ", "scene.txt is a file, not a folder"]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "CFGScale": 0.5}],
     ["renders[0]: CFGScale = 0.5 is not allowed: a number from 1 to 30."]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "settings": {"topK": 0}}], ["renders[0]: settings.topK = 0 is not allowed"]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "seeed": 3}], ["renders[0]: 'seeed' is not a field of a render; did you mean seed?"]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "model": "dia2-1b"}], ["renders[0]: model: a batch renders with one model"]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "audioSettings": {"bitrate": 64}}],
     ["renders[0]: audioSettings = {'bitrate': 64} is not allowed: WAV takes no audioSettings"]),
    ([{"script": "[S1] Hi.", "output": "a.wav"}, {"script": "[S1] Ho.", "output": "./a.wav"}],
     ["renders[1].output: renders[0] writes {here}/a.wav too: give each render its own output"]),
    ([{"script": "[S1] Hi.", "output": "a_take2.wav"}, {"script": "[S1] Ho.", "output": "a.wav", "numberResults": 2}],
     ["renders[1].output: renders[0] writes {here}/a_take2.wav too"]),
    ([{"script": "[S1] Hi.", "output": "a.wav"}, {"script": "[S1] Ho.", "voices": ["s1.wav"], "output": "s1.wav"}],
     ["renders[1]: writes {here}/s1.wav, which the batch reads (the manifest, a voice"]),
    ([{"script": "[S1] Hi.", "output": "batch.wav"}, {"scriptFile": "scene.txt", "output": "a.wav"},
      {"script": "[S1] Ho.", "output": "scene.txt.wav"}], []),
    ([{"script": "[S1] Hi.", "output": "a.wav", "bestOf": 5}],
     ["renders[0].bestOf: 5 is not 2, 3 or 4: give how many takes to choose the best-checked from"]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "bestOf": 2, "numberResults": 2}],
     ["renders[0].bestOf: give bestOf or numberResults, not both"]),
    ([{"script": "[S1] Hi.", "output": "a.wav", "stems": "yes"}],
     ["renders[0].stems: 'yes' is not true or false: give true for one file per speaker beside the output"]),
    ([{"script": "[S1] Hi. [S2] Ho.", "output": "a.wav", "stems": True}, {"script": "[S1] Ho.", "output": "a.S2.wav"}],
     ["renders[1].output: renders[0] writes {here}/a.S2.wav too: give each render its own output"]),
    (["[S1] Hi."], ["renders[0]: give an object with a script and an output"]),
    ([], ["there is nothing to render in it"]),
    ({"renders": [], "extra": 1}, ['extra: a manifest object holds "defaults" and "renders"']),
    ({"renders": {"script": "x"}}, ["renders: give a list of renders"]),
    ("[{", ["is not JSON: "]),
])
def test_each_problem_of_a_json_manifest_names_its_render_and_field(here, renders, expected):
    if not expected:  # names alike are not the same file
        assert len(read(here, renders)) == len(renders)
        return
    found = problems(here, renders)
    assert len(found) == 1, found
    for part in expected:
        assert part.replace("{here}", str(here)) in found[0]


def test_every_problem_is_found_at_once(here):
    found = problems(here, [{"script": "[S1] Hi.", "voices": ["s9.wav"], "output": "a.wav", "CFGScale": 0.5},
                            {"scriptFile": "nope.txt", "output": "a.wav"},
                            {"script": "[S1] Fine.", "output": "b.wav"}])
    assert found == ["renders[0].voices[0]: no file s9.wav beside the manifest",
                     "renders[0]: CFGScale = 0.5 is not allowed: a number from 1 to 30.",
                     "renders[1].scriptFile: no file nope.txt beside the manifest",
                     f"renders[1].output: renders[0] writes {here / 'a.wav'} too: give each render its own output"]


@pytest.mark.parametrize("content, expected", [
    ("script,output,cfg_scale\n[S1] Hi.,a.wav,0.5\n", "line 2, cfg_scale: CFGScale = 0.5 is not allowed"),
    ("script,output,top_k\n[S1] Hi.,a.wav,many\n", "line 2, top_k: settings.topK = 'many' is not allowed"),
    ("script,output,include_prefix\n[S1] Hi.,a.wav,maybe\n", "line 2, include_prefix: settings.includePrefix"),
    ("script,output,voice1\n[S1] Hi.,a.wav,s9.wav\n", "line 2, voice1: no file s9.wav beside the manifest"),
    ("script,output,voice2\n[S1] Hi.,a.wav,s1.wav\n", "line 2, voice1: give the voice's audio file"),
    ("script,output,bitrate\n[S1] Hi.,a.wav,64\n", "line 2, bitrate: audioSettings"),
    ("script,output,stems\n[S1] Hi.,a.wav,1\n", "line 2, stems: 1 is not true or false"),
    ('script,output\n"[S1] Two\nlines.",a.wav\n[S1] Hi.,\n', "line 4, output: give the file to write"),
    ("script,output\n[S1] Hi.,a.wav,extra\n", "line 2: 3 cells, but the header names 2 columns"),
    ("script,output,cfg-scale\n[S1] Hi.,a.wav,2\n", "line 1: 'cfg-scale' is not a column; did you mean cfg_scale?"),
    ("", "has no header row"),
])
def test_each_problem_of_a_csv_manifest_names_its_line_and_column(here, content, expected):
    found = problems(here, content, name="batch.csv")
    assert len(found) == 1 and expected in found[0], found


def test_a_folder_names_each_project_that_cannot_be_rendered(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "Example.diastudio")
    (tmp_path / "Broken.diastudio").mkdir()
    with pytest.raises(ManifestError) as raised:
        read_manifest(tmp_path, "dia2-2b", FolderOptions(None, ExportSettings.create("MP3")))
    assert raised.value.problems == [
        f"Broken.diastudio: {tmp_path / 'Broken.diastudio'} is not a Dia Studio project: it has no project.json."]
    with pytest.raises(ManifestError, match="the folder holds no .diastudio project"):
        read_manifest(tmp_path / "Broken.diastudio", "dia2-2b", FOLDER)


def test_what_is_not_a_manifest_is_refused(tmp_path):
    (tmp_path / "list.txt").write_text("x")
    with pytest.raises(ManifestError, match="a manifest is a .json or .csv file, or a folder of .diastudio projects"):
        read_manifest(tmp_path / "list.txt", "dia2-2b", FOLDER)
    with pytest.raises(ManifestError, match="there is no such file or folder"):
        read_manifest(tmp_path / "missing.json", "dia2-2b", FOLDER)
