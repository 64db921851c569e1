"""--lexicon on render, speak, batch and serve: the model reads the respellings, the files and
subtitles keep the written words, a later file's entries win, and a file it cannot use is refused
before the model loads."""

import json
import os
import threading

import numpy as np
import pytest
import soundfile

from app.main import main
from app.speak import run_speak
from tests.core.dia2.golden import CHECKPOINT

GREEDY = ["--seed", "7", "--temperature", "0", "--audio-temperature", "0"]


def lexicon_file(folder, name: str, entries: list[tuple[str, str]]):
    path = folder / name
    path.write_text(json.dumps({"format": "dia-studio-lexicon", "version": 1,
                                "entries": [{"written": w, "spoken": s} for w, s in entries]}))
    return path


def render(tmp_path, name: str, script: str, *flags: str) -> tuple[np.ndarray, str]:
    out = tmp_path / f"{name}.wav"
    assert main(["render", "--model", str(CHECKPOINT), "--device", "cpu", "--script", script, "--out", str(out),
                 "--codes-out", str(tmp_path / f"{name}.npy"), "--subtitles", *GREEDY, *flags]) == 0
    return np.load(tmp_path / f"{name}.npy"), out.with_suffix(".srt").read_text()


def test_render_reads_the_respelling_and_its_subtitles_keep_the_written_word(tmp_path):
    lexicon = lexicon_file(tmp_path, "names.json", [("Nguyen", "Win")])
    ours, subtitles = render(tmp_path, "lexicon", "[S1] Hello Nguyen.", "--lexicon", str(lexicon))
    plain, plain_subtitles = render(tmp_path, "plain", "[S1] Hello Win.")
    np.testing.assert_array_equal(ours, plain)  # exactly what the model makes of the respelling
    assert "Hello Nguyen." in subtitles and "Win" not in subtitles
    assert "Hello Win." in plain_subtitles


def test_a_later_lexicon_file_wins(tmp_path):
    first = lexicon_file(tmp_path, "first.json", [("Nguyen", "Nu Yen")])
    second = lexicon_file(tmp_path, "second.json", [("Nguyen", "Win")])
    ours, _ = render(tmp_path, "both", "[S1] Hello Nguyen.", "--lexicon", str(first), "--lexicon", str(second))
    plain, _ = render(tmp_path, "plain", "[S1] Hello Win.")
    np.testing.assert_array_equal(ours, plain)


@pytest.mark.parametrize("command", [["render", "--script", "[S1] Hi.", "--out", "x.wav"], ["speak", "-o", "x.wav"],
                                     ["batch", "manifest.json"], ["serve"]])
def test_a_lexicon_file_it_cannot_use_is_refused_before_the_model_loads(tmp_path, capsys, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps([{"script": "[S1] Hi.", "output": "hi.wav"}]))
    (tmp_path / "bad.json").write_text("{not json")
    extra = ["--model", str(tmp_path / "no-model")] if command[0] != "serve" else ["--data-dir", str(tmp_path / "d")]
    assert main([*command, *extra, "--lexicon", str(tmp_path / "bad.json")]) == 2
    error = capsys.readouterr().err
    assert "bad.json" in error and "Traceback" not in error


def test_a_batch_render_reads_its_own_lexicon_over_the_command_lines(tmp_path):
    (tmp_path / "mine.csv").write_text("written,spoken\nNguyen,Win\n")
    general = lexicon_file(tmp_path, "general.json", [("Nguyen", "Nu Yen"), ("Hello", "Hullo")])
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"defaults": {"seed": 7, "settings": {"temperature": 0, "audioTemperature": 0}},
                                    "renders": [{"script": "[S1] Hello Nguyen.", "output": "ours.wav",
                                                 "lexicon": "mine.csv"}]}))
    assert main(["batch", str(manifest), "--model", str(CHECKPOINT), "--device", "cpu",
                 "--lexicon", str(general)]) == 0
    plain, _ = render(tmp_path, "plain", "[S1] Hullo Win.")
    ours, _ = soundfile.read(tmp_path / "ours.wav")
    theirs, _ = soundfile.read(tmp_path / "plain.wav")
    np.testing.assert_array_equal(ours, theirs)  # "Hello" from the general file, "Nguyen" from the render's


def spoken(tmp_path, name: str, pieces: list[str], *flags: str) -> np.ndarray:
    """What ``speak -o`` makes of ``pieces`` arriving one by one on stdin."""
    reading, writing = os.pipe()

    def write() -> None:
        with os.fdopen(writing, "w") as pipe:
            for piece in pieces:
                pipe.write(piece)
                pipe.flush()

    threading.Thread(target=write, daemon=True).start()
    out = tmp_path / f"{name}.wav"
    with os.fdopen(reading, "rb") as stdin:
        assert run_speak(["--model", str(CHECKPOINT), "--device", "cpu", "--dtype", "float32", "--threads", "1",
                          "-o", str(out), *GREEDY, *flags], stdin=stdin) == 0
    return soundfile.read(out)[0]


def test_speak_respells_text_as_it_arrives_even_a_phrase_cut_across_pieces(tmp_path):
    lexicon = lexicon_file(tmp_path, "places.json", [("New York", "Noo Yawk"), ("Nguyen", "Win")])
    ours = spoken(tmp_path, "ours", ["[S1] Hello Ngu", "yen, welcome to New ", "York. "], "--lexicon", str(lexicon))
    plain = spoken(tmp_path, "plain", ["[S1] Hello Win, welcome to Noo Yawk. "])
    np.testing.assert_array_equal(ours, plain)
