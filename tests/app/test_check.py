"""``dia-studio check``: a take and its script, line times, words and voices as files → a table or
JSON, exit 1 when a line is bad; input it cannot use is refused, saying what and where."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from app.check import run_check
from tests.core.take_checks import dialogue

VOICES = Path(__file__).parents[1] / "fixtures" / "voices"


def write_take(folder: Path, take) -> list[str]:
    """The take's files in ``folder``; the flags that name them."""
    soundfile.write(folder / "take.wav", take.samples, take.sample_rate)
    (folder / "script.txt").write_text("\n".join(f"[{line.speaker}] {line.text}" for line in take.lines))
    (folder / "times.json").write_text(json.dumps([list(line.span) if line.span else None for line in take.lines]))
    (folder / "words.json").write_text(json.dumps([[word.text, word.start_s, word.end_s] for word in take.words]))
    for tag, voice in take.voices.items():
        soundfile.write(folder / f"{tag}.wav", voice.samples, voice.sample_rate)
    return [str(folder / "take.wav"), "--script", str(folder / "script.txt"), "--line-times",
            str(folder / "times.json"), "--words", str(folder / "words.json"),
            "--s1", str(folder / "S1.wav"), "--s2", str(folder / "S2.wav")]


def test_a_swapped_line_is_reported_as_json_and_the_exit_says_a_line_is_bad(tmp_path, capsys):
    flags = write_take(tmp_path, dialogue.take_of(dialogue.swapped(dialogue.clean_parts())))
    assert run_check(flags + ["--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["score"] == 75
    assert [line["verdict"] for line in report["lines"]] == ["good", "good", "bad", "good"]
    (flag,) = report["lines"][2]["flags"]
    assert flag["kind"] == "speaker" and flag["detail"].startswith("sounds like S2: ")
    assert all(line["notChecked"] == ["misheard_words"] for line in report["lines"])


def test_a_clean_take_reads_as_a_table_and_exits_0(tmp_path, capsys):
    flags = write_take(tmp_path, dialogue.take_of(dialogue.clean_parts()))
    assert run_check(flags) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "take.wav: score 100 (4 lines: 4 good, 0 to check, 0 bad)"
    assert "not checked: misheard words" in out
    assert "--whisper-model" in err


def test_a_threshold_set_on_the_command_line_is_judged_by(tmp_path, capsys):
    flags = write_take(tmp_path, dialogue.take_of(dialogue.silence_inside(dialogue.clean_parts(), seconds=2.5)))

    def verdicts(*thresholds: str) -> tuple[int, list[str]]:
        status = run_check(flags + ["--json"] + [arg for pair in thresholds for arg in ("--threshold", pair)])
        return status, [line["verdict"] for line in json.loads(capsys.readouterr().out)["lines"]]

    assert verdicts() == (0, ["good", "good", "check", "good"])  # 2.5 s inside line 3: worth a listen
    assert verdicts("silence_bad_s=1") == (1, ["good", "good", "bad", "good"])
    assert verdicts("silence_s=3") == (0, ["good"] * 4)


@pytest.mark.parametrize("threshold, message", [
    ("silence=3", "The checks have no threshold 'silence'; they have: speaker_margin,"),
    ("silence_s=0", "silence_s must be a number from 0.1 to 10 s, not 0.0."),
    ("silence_s=soon", "--threshold silence_s=soon: give NAME=VALUE, the value a number"),
    ("silence_s", "--threshold silence_s: give NAME=VALUE"),
    ("misheard_bad_rate=0.1", "misheard_bad_rate must be at least misheard_check_rate."),
])
def test_a_threshold_it_cannot_use_is_refused_saying_what(tmp_path, capsys, threshold, message):
    flags = write_take(tmp_path, dialogue.take_of(dialogue.clean_parts()))
    assert run_check(flags + ["--threshold", threshold]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dia-studio check: error: ") and message in err, err


@pytest.mark.parametrize("change, message", [
    (lambda folder: (folder / "times.json").write_text("[[0, 1], [1, 2]]"),
     "the script has 4 lines but the line times give 2 spans"),
    (lambda folder: (folder / "times.json").write_text("[[0, 1], [1, 2], [2, 3], [3, 99]]"),
     "line 4: ends at 99 s, after the audio's end"),
    (lambda folder: (folder / "times.json").write_text("[[0, 1], [0.5, 2], [2, 3], [3, 4]]"),
     "line 2: starts at 0.5 s, before line 1 ends"),
    (lambda folder: (folder / "times.json").write_text("[[0, 1], [1, \"2\"], [2, 3], [3, 4]]"),
     "line 2: [1, \"2\"] must be [start_s, end_s]"),
    (lambda folder: (folder / "take.wav").write_text("not audio"), "take.wav"),
    (lambda folder: (folder / "S2.wav").write_bytes((VOICES / "silence_3s.wav").read_bytes()), "silent"),
    (lambda folder: (folder / "words.json").write_text("{}"), "word timings must be a non-empty JSON list"),
])
def test_input_it_cannot_use_is_refused_saying_what(tmp_path, capsys, change, message):
    flags = write_take(tmp_path, dialogue.take_of(dialogue.clean_parts()))
    change(tmp_path)
    assert run_check(flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("dia-studio check: error: ") and message in err, err


def test_the_console_command_checks_a_take(tmp_path):
    flags = write_take(tmp_path, dialogue.take_of(dialogue.cut_short(dialogue.clean_parts())))
    done = subprocess.run([sys.executable, "-m", "app.main", "check", *flags], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=300)
    assert done.returncode == 1, done.stderr
    assert "missing words: the model did not say “read it together on the bench.”" in done.stdout
