"""`dia-studio batch` end to end with the tiny checkpoint: a manifest rendered by a real
subprocess and its files decoded back, a rerun that skips them, --force, one failing render among
good ones, Ctrl-C and a kill part way (nothing half-written; the rerun finishes, after --force
too), a folder of projects, the bad renders left out with --skip-bad, and the flags and scripts
refused before anything loads."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
import soundfile

from app.batch import ProgressBar
from app.main import main
from core.audio.tags import ExportMetadata
from core.batch.runner import Outcome
from tests.core.dia2.golden import CHECKPOINT

VOICES = Path(__file__).parents[1] / "fixtures" / "voices"
EXAMPLE = Path(__file__).parents[2] / "resources" / "example" / "Example.diastudio"
REPO = Path(__file__).parents[2]
MODEL = ["--model", str(CHECKPOINT), "--device", "cpu", "--threads", "1"]


def batch_process(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app.main", "batch", *args, *MODEL], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO, **popen)


def run_batch(*args: str) -> subprocess.CompletedProcess:
    process = batch_process(*args)
    _, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, "", stderr)


def manifest(folder: Path, renders, name="batch.json") -> Path:
    shutil.copy(VOICES / "speaker1_24k_mono.wav", folder / "s1.wav")
    (folder / "s1.words.json").write_text(json.dumps([["Hello", 0.3, 0.7], ["there.", 0.8, 1.2]]))
    path = folder / name
    path.write_text(json.dumps(renders), encoding="utf-8")
    return path


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_manifest_renders_through_the_console_command_and_a_rerun_skips_it(tmp_path, capsys):
    path = manifest(tmp_path, {"defaults": {"CFGScale": 2.5}, "renders": [
        {"script": "[S1] Hello there. [S2] Hi!", "seed": 7, "output": "out/first.wav"},
        {"script": "[S1] With a voice.", "voices": [{"audio": "s1.wav", "words": "s1.words.json"}], "seed": 8,
         "output": "out/second.mp3", "audioSettings": {"sampleRate": 44100, "bitrate": 128, "channels": 2}},
        {"script": "[S1] Two takes.", "seed": 9, "numberResults": 2, "output": "out/third.flac"},
    ]})
    finished = run_batch(str(path))
    assert finished.returncode == 0, finished.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["first.wav", "second.mp3", "third_take1.flac", "third_take2.flac"]
    audio, rate = soundfile.read(out / "first.wav")
    assert rate == 24000 and len(audio) > 2400 and abs(audio).max() > 0.001
    with av.open(str(out / "second.mp3")) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.sample_rate, stream.codec_context.channels) == (44100, 2)
        tags = {key.lower(): value for key, value in container.metadata.items()}
    made = ExportMetadata.from_tags(tags)
    assert made.seed == 8 and made.parameters["CFGScale"] == 2.5
    assert [soundfile.info(out / f"third_take{n}.flac").frames > 0 for n in (1, 2)] == [True, True]
    assert "3/3 renders[2]: wrote" in finished.stderr and "3 renders finished in" in finished.stderr

    report = report_of(tmp_path / "batch-report.json")
    assert not report["interrupted"] and report["counts"]["done"] == 3
    assert [(r["name"], r["status"], r["seeds"]) for r in report["renders"]] == [
        ("renders[0]", "done", [7]), ("renders[1]", "done", [8]), ("renders[2]", "done", [9, 10])]
    assert report["renders"][2]["outputs"] == [str(out / "third_take1.flac"), str(out / "third_take2.flac")]

    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["batch", str(path), "--report", str(tmp_path / "again.json"), *MODEL]) == 0
    said = capsys.readouterr().err
    assert "skipped 3 already rendered" in said and "loading" not in said  # nothing to render: no model loaded
    assert [r["status"] for r in report_of(tmp_path / "again.json")["renders"]] == ["skipped"] * 3
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before

    assert main(["batch", str(path), "--force", *MODEL]) == 0
    assert "skipped" not in capsys.readouterr().err
    assert [r["status"] for r in report_of(tmp_path / "batch-report.json")["renders"]] == ["done"] * 3
    assert all(p.stat().st_mtime_ns > before[p.name] for p in out.iterdir())


def test_a_failing_render_is_reported_and_the_others_are_rendered(tmp_path, capsys):
    (tmp_path / "broken.pt").write_bytes(b"not a Whisper model")
    path = manifest(tmp_path, [{"script": "[S1] Fine.", "output": "1.wav"},
                               {"script": "[S1] Needs Whisper.", "voices": ["s1.wav"], "seed": 5, "numberResults": 2,
                                "output": "2.wav"},
                               {"script": "[S1] Fine too.", "output": "3.wav"}])
    assert main(["batch", str(path), *MODEL, "--whisper-model", str(tmp_path / "broken.pt")]) == 1
    said = capsys.readouterr().err
    report = report_of(tmp_path / "batch-report.json")
    assert [r["status"] for r in report["renders"]] == ["done", "failed", "done"]
    assert "broken.pt" in report["renders"][1]["error"] and "Traceback" not in said
    assert report["renders"][1]["seeds"] == [5, 6]  # chosen for it, though it made nothing
    assert f"2/3 renders[1]: failed: {report['renders'][1]['error']}" in said and "2 done, 1 failed" in said
    assert (tmp_path / "1.wav").is_file() and (tmp_path / "3.wav").is_file() and not (tmp_path / "2.wav").exists()


def many(tmp_path: Path, count: int) -> Path:
    return manifest(tmp_path, [{"script": f"[S1] This is render number {n}, of several.", "seed": n,
                                "output": f"out/{n:02d}.ogg"} for n in range(count)])


def wait_for_a_finished_render(process: subprocess.Popen) -> list[str]:
    said = []
    while not any(line.startswith("1/") for line in said):
        line = process.stderr.readline()
        assert line, "".join(said)
        said.append(line)
    return said


def decodes_whole(path: Path) -> bool:
    info = soundfile.info(path)
    audio, _ = soundfile.read(path)
    return info.frames > 0 and len(audio) == info.frames


def test_ctrl_c_stops_the_batch_writes_an_interrupted_report_and_a_rerun_finishes(tmp_path, capsys):
    path = many(tmp_path, 5)
    process = batch_process(str(path))
    wait_for_a_finished_render(process)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130, rest
    assert "cancelling" in rest and "5 renders interrupted after" in rest and "Traceback" not in rest
    report = report_of(tmp_path / "batch-report.json")
    statuses = [r["status"] for r in report["renders"]]
    assert report["interrupted"] and statuses[0] == "done" and "pending" in statuses and "failed" not in statuses
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == [f"{n:02d}.ogg" for n, s in enumerate(statuses) if s == "done"]
    assert all(decodes_whole(p) for p in written)

    assert main(["batch", str(path), *MODEL]) == 0
    assert f"skipped {len(written)} already rendered" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{n:02d}.ogg" for n in range(5)]


def test_a_rerun_after_an_interrupted_force_renders_what_the_forced_run_had_not_rendered_again(tmp_path, capsys):
    path = many(tmp_path, 5)
    assert main(["batch", str(path), *MODEL]) == 0
    out = tmp_path / "out"
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    process = batch_process(str(path), "--force")
    wait_for_a_finished_render(process)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130, rest
    redone = [name for name, written in before.items() if (out / name).stat().st_mtime_ns > written]
    assert 0 < len(redone) < 5  # the others still have the files of the run before

    assert main(["batch", str(path), *MODEL]) == 0
    assert f"skipped {len(redone)} already rendered" in capsys.readouterr().err
    assert all((out / name).stat().st_mtime_ns > written for name, written in before.items())
    assert main(["batch", str(path), *MODEL]) == 0
    assert "skipped 5 already rendered" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_batch_leaves_no_half_written_file_and_a_rerun_finishes(tmp_path):
    path = many(tmp_path, 8)
    process = batch_process(str(path))
    wait_for_a_finished_render(process)
    process.kill()
    process.communicate(timeout=60)
    finished = [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
    assert finished and all(decodes_whole(p) for p in finished)  # whole files only under the outputs' names

    rerun = run_batch(str(path))
    assert rerun.returncode == 0, rerun.stderr
    assert f"skipped {len(finished)} already rendered" in rerun.stderr
    # every output whole, and nothing the killed writes had begun left beside them
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{n:02d}.ogg" for n in range(8)]
    assert all(decodes_whole(p) for p in (tmp_path / "out").iterdir())


def test_a_folder_of_projects_renders_each_as_render_project_would(tmp_path, capsys):
    projects = tmp_path / "season"
    shutil.copytree(EXAMPLE, projects / "Example.diastudio")
    before = (projects / "Example.diastudio" / "project.json").read_bytes()
    out_dir = tmp_path / "renders" / "season"  # made, parents too
    flags = ["--out-dir", str(out_dir), "--format", "flac", "--loudness", "-30"]
    assert main(["batch", str(projects), *flags]) == 2  # its lines have no take: a model is needed
    assert "Example.diastudio: lines 1–4 have no current take: give the model" in capsys.readouterr().err
    assert not (tmp_path / "renders").exists()  # refused: nothing made

    assert main(["batch", str(projects), *flags, *MODEL]) == 0
    assert f"made the folder {out_dir} (--out-dir)" in capsys.readouterr().err
    out = out_dir / "Example.flac"
    info = soundfile.info(out)
    assert info.samplerate == 24000 and info.duration > 0.5
    audio, rate = soundfile.read(out)
    assert pyloudnorm.Meter(rate).integrated_loudness(audio) == pytest.approx(-30, abs=0.5)
    assert (projects / "Example.diastudio" / "project.json").read_bytes() == before  # the project is left alone
    report = report_of(projects / "batch-report.json")
    assert [(r["name"], r["status"], r["outputs"]) for r in report["renders"]] == [
        ("Example.diastudio", "done", [str(out)])]
    assert main(["batch", str(projects), *flags]) == 0  # rendered: skipped, and no model needed
    assert "skipped 1 already rendered" in capsys.readouterr().err


def test_a_manifest_s_stems_add_up_to_each_render_and_a_rerun_misses_none(tmp_path, capsys):
    path = manifest(tmp_path, [{"script": "[S1] Hello there. [S2] Hi!", "seed": 7, "output": "out/talk.wav",
                                "stems": True},
                               {"script": "[S1] No stems.", "seed": 8, "output": "out/plain.wav"}])
    assert main(["batch", str(path), *MODEL]) == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["plain.wav", "talk.S1.wav", "talk.S2.wav", "talk.wav"]
    mix, first, second = (soundfile.read(out / name, dtype="int16")[0] for name in ("talk.wav", "talk.S1.wav",
                                                                                    "talk.S2.wav"))
    assert len(mix) == len(first) == len(second) and (first.astype(np.int32) + second == mix).all()
    assert first.any() and second.any() and not (first.astype(bool) & second.astype(bool)).any()
    report = report_of(tmp_path / "batch-report.json")
    assert report["renders"][0]["outputs"] == [str(out / name) for name in ("talk.wav", "talk.S1.wav", "talk.S2.wav")]

    (out / "talk.S2.wav").unlink()  # a stem missing: that render is rendered again, the other skipped
    assert main(["batch", str(path), *MODEL]) == 0
    assert "skipped 1 already rendered" in capsys.readouterr().err
    assert np.array_equal(soundfile.read(out / "talk.S2.wav", dtype="int16")[0], second)  # the same seed


def test_a_folder_of_projects_with_stems_writes_each_speaker_s_file_beside_each_project_s(tmp_path, capsys):
    from tests.app.test_cli_project_render import project_with

    projects = tmp_path / "season"
    projects.mkdir()
    project_with(projects, ["one two", "three", "four"], generated=3)  # every line has its take: no model
    assert main(["batch", str(projects), "--format", "wav", "--stems"]) == 0
    stems = [projects / "Talk.S1-Speaker_1.wav", projects / "Talk.S2-Speaker_2.wav"]
    mix, first, second = (soundfile.read(path, dtype="int16")[0] for path in (projects / "Talk.wav", *stems))
    assert np.array_equal(first.astype(np.int32) + second, mix) and first.any() and second.any()
    assert report_of(projects / "batch-report.json")["renders"][0]["outputs"] == [
        str(path) for path in (projects / "Talk.wav", *stems)]


@pytest.mark.parametrize("flags, message", [
    (["--stems"], '--stems applies only to a folder of projects: a manifest asks for stems render by render, with '
                  '"stems": true (the CSV column stems)'),
    (["--replicas", "2"], "--replicas applies only with --ray"),
    (["--ray", "--replicas", "0"], "--replicas 0: give 1 or more"),
    (["--out-dir", "."], "--out-dir applies only to a folder of projects"),
    (["--bitrate", "128"], "--bitrate applies only to a folder of projects"),
    (["--loudness", "-16"], "--loudness applies only to a folder of projects"),
    (["--loudness", "50"], "--loudness 50: give -70 to 0 LUFS"),
    (["--threads", "0"], "--threads 0: give 1 or more"),
    (["--warm-voices-mb", "-1"], "--warm-voices-mb -1: give 0 or more"),
    (["--report", "missing/r.json"], "--report missing/r.json: the folder missing does not exist"),
])
def test_bad_flags_are_refused_before_anything_loads(tmp_path, capsys, flags, message):
    path = manifest(tmp_path, [{"script": "[S1] Hi.", "output": "1.wav"}])
    assert main(["batch", str(path), *flags]) == 2
    error = capsys.readouterr().err
    assert message in error and "loading" not in error and not (tmp_path / "1.wav").exists()


def test_ray_without_the_cluster_extra_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "app.cluster.batch_engines", None)  # not installed
    path = manifest(tmp_path, [{"script": "[S1] Hi.", "output": "1.wav"}])
    assert main(["batch", str(path), "--ray", "--replicas", "2"]) == 2
    assert "--ray needs the cluster extra: pip install 'dia-studio[cluster]'" in capsys.readouterr().err


def test_unspeakable_scripts_are_all_refused_before_the_model_loads(tmp_path, capsys):
    (tmp_path / "tags.txt").write_text("[S1] [S2]", encoding="utf-8")
    path = manifest(tmp_path, [{"script": "[S1] Fine.", "output": "1.wav"},
                               {"script": "[S3] Hello", "output": "2.wav"},
                               {"script": '<break time="1s"/>', "output": "3.wav"},
                               {"scriptFile": "tags.txt", "output": "4.wav"}])
    # A model folder that does not exist: its error would come first if the model loaded first.
    assert main(["batch", str(path), "--model", str(tmp_path / "no-model")]) == 2
    error = capsys.readouterr().err
    assert "3 problems, nothing was rendered" in error and "loading" not in error
    assert "renders[1].script: [S3] is not a speaker tag" in error
    assert "renders[2].script: The script has no words to speak." in error
    assert "renders[3].scriptFile: The speaker tag [S2] at the end of the script has no words after it." in error
    assert not any((tmp_path / f"{n}.wav").exists() for n in (1, 2, 3, 4))
    assert not (tmp_path / "batch-report.json").exists()


def test_with_skip_bad_the_good_renders_are_rendered_and_the_bad_ones_reported_failed(tmp_path, capsys):
    path = manifest(tmp_path, [{"script": "[S1] Fine.", "seed": 1, "output": "1.wav"},
                               {"script": "[S1] No voice.", "voices": ["missing.wav"], "output": "2.wav"},
                               {"script": "[S3] Hello", "output": "3.wav"},
                               "not a render",
                               {"script": "[S1] Fine too.", "seed": 2, "output": "5.wav"}])
    assert main(["batch", str(path), *MODEL]) == 2  # the default: refused whole
    assert "3 problems, nothing was rendered" in capsys.readouterr().err

    assert main(["batch", str(path), "--skip-bad", *MODEL]) == 1
    said = capsys.readouterr().err
    report = report_of(tmp_path / "batch-report.json")
    assert [(r["name"], r["status"]) for r in report["renders"]] == [
        ("renders[0]", "done"), ("renders[1]", "failed"), ("renders[2]", "failed"), ("renders[3]", "failed"),
        ("renders[4]", "done")]
    errors = [r["error"] for r in report["renders"]]
    assert errors[1] == "not rendered: renders[1].voices[0]: no file missing.wav beside the manifest"
    assert errors[2].startswith("not rendered: renders[2].script: [S3] is not a speaker tag")
    assert errors[3] == "not rendered: renders[3]: give an object with a script and an output"
    assert f"renders[1]: failed: {errors[1]}" in said and "2 done, 3 failed" in said
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["1.wav", "5.wav", "s1.wav"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_progress_is_one_line_redrawn():
    stream = Terminal()
    bar = ProgressBar(stream)
    bar.begin(total=4, skipped=1, engines=1)
    bar.started(type("Job", (), {"name": "renders[1]"})())
    assert bar.line() == "[#####...............] 1/4 renders · renders[1]"
    bar.finished(Outcome("renders[1]", "done", [Path("a.wav")], seconds=30.0))
    bar.finished(Outcome("renders[2]", "failed", [], seconds=1.0, error="Whisper heard no words."))
    assert bar.line() == "[###############.....] 3/4 renders · 1 failed · eta 30 s"
    drawn = stream.getvalue()
    assert "\n" not in drawn.replace("renders[2]: failed: Whisper heard no words.\n", "")  # redrawn, not scrolled
    assert drawn.endswith("\r\x1b[K[###############.....] 3/4 renders · 1 failed · eta 30 s")


def test_best_of_writes_the_best_checked_take_and_reports_every_takes_checks(tmp_path, capsys):
    path = manifest(tmp_path, [{"script": "[S1] Hello there, how are you? [S2] Fine, thanks.", "seed": 4,
                                "bestOf": 3, "output": "best.flac"}])
    assert main(["batch", str(path), *MODEL]) == 0
    (render,) = report_of(tmp_path / "batch-report.json")["renders"]
    assert render["outputs"] == [str(tmp_path / "best.flac")] and render["seeds"] == [4, 5, 6]
    checks = render["checks"]
    assert [take["take"] for take in checks] == [1, 2, 3] and [take["seed"] for take in checks] == [4, 5, 6]
    (kept,) = [take for take in checks if take["kept"]]
    assert kept["score"] == max(take["score"] for take in checks)
    assert [line["line"] for line in kept["lines"]] == [1, 2]
    with av.open(str(tmp_path / "best.flac")) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
    assert ExportMetadata.from_tags(tags).seed == kept["seed"]
    assert sorted(file.name for file in tmp_path.glob("best*")) == ["best.flac"]
