"""run_batch against stand-in engines (the model's work scripted, the files real): renders side by
side on several engines, a dead engine's render tried once more, one failure failing one render,
skipping what is rendered, and a cancel that writes nothing unfinished."""

import json
import threading
from dataclasses import replace

import numpy as np
import pytest
import soundfile

from core.audio.formats import ExportSettings
from core.batch.manifest import FolderOptions, read_manifest
from core.batch.runner import run_batch
from core.dia2.events import TakeResult, TakeStarted
from core.dia2.transcribe import NoSpeechFound
from core.engine.engine import EngineFailed
from tests.core.studio.test_dialogue_generation import ScriptedEngine


class Recorder:
    """A BatchProgress that keeps what it is told."""

    def __init__(self):
        self.calls = []

    def begin(self, total, skipped, engines):
        self.calls.append(("begin", total, skipped, engines))

    def started(self, job):
        self.calls.append(("started", job.name))

    def retrying(self, job, reason):
        self.calls.append(("retrying", job.name, reason))

    def finished(self, outcome):
        self.calls.append(("finished", outcome.name, outcome.status))


class DyingEngine(ScriptedEngine):
    """Its process dies part way through its first ``deaths`` generations (then it is started
    again): as a relayed engine does, it gives the take cut short, as streamed, then raises."""

    def __init__(self, deaths):
        super().__init__()
        self.deaths = deaths

    def generate(self, request, cancel):
        yield TakeStarted(0, request.params.seed)
        if self.deaths:
            self.deaths -= 1
            whole = next(e for e in super().generate(request, cancel) if isinstance(e, TakeResult))
            yield replace(whole, audio=whole.audio[:240], complete=False,
                          notices=["Cut short: the model's process was killed by signal 9."])
            raise EngineFailed("The model's process stopped (killed by signal 9).")
        yield from super().generate(request, cancel)


def jobs_of(folder, renders):
    path = folder / "batch.json"
    path.write_text(json.dumps(renders))
    return read_manifest(path, "dia2-2b", FolderOptions(None, ExportSettings.create("MP3")))


def three(folder):
    return jobs_of(folder, [{"script": f"[S1] Render number {n}.", "seed": n, "output": f"out/{n}.wav"}
                            for n in range(3)])


def test_the_renders_run_one_at_a_time_on_one_engine_and_write_their_files(here):
    engine, progress = ScriptedEngine(), Recorder()
    report = run_batch(three(here), [engine], progress, threading.Event())
    assert [o.status for o in report.outcomes] == ["done"] * 3 and not report.failed and not report.interrupted
    assert [request.script for request in engine.requests] == [f"[S1] Render number {n}." for n in range(3)]
    for n, outcome in enumerate(report.outcomes):
        assert outcome.outputs == [here / "out" / f"{n}.wav"] and outcome.seeds == [n]
        audio, rate = soundfile.read(outcome.outputs[0])
        assert rate == 24000 and len(audio) == round(3 * 0.08 * rate)  # three words of 80 ms
    assert progress.calls[0] == ("begin", 3, 0, 1)
    assert progress.calls[1:3] == [("started", "renders[0]"), ("finished", "renders[0]", "done")]
    assert report.summary().startswith("3 renders finished in ") and report.summary().endswith("3 done, 0 failed")


def test_with_several_engines_the_renders_run_side_by_side(here):
    both_generating = threading.Barrier(2, timeout=30)

    class Meeting(ScriptedEngine):
        def generate(self, request, cancel):
            both_generating.wait()  # passes only while the other engine generates too
            yield from super().generate(request, cancel)

    engines = [Meeting(), Meeting()]
    report = run_batch(jobs_of(here, [{"script": "[S1] One.", "output": "1.wav"},
                                      {"script": "[S1] Two.", "output": "2.wav"}]),
                       engines, Recorder(), threading.Event())
    assert [o.status for o in report.outcomes] == ["done", "done"], report.outcomes
    assert [len(engine.requests) for engine in engines] == [1, 1]


def test_a_render_whose_engine_died_is_tried_once_more(here):
    engine, progress = DyingEngine(deaths=1), Recorder()
    report = run_batch(three(here)[:1], [engine], progress, threading.Event())
    outcome, = report.outcomes
    assert (outcome.status, outcome.attempts) == ("done", 2)
    assert ("retrying", "renders[0]", "The model's process stopped (killed by signal 9).") in progress.calls
    assert soundfile.info(outcome.outputs[0]).frames > 0


def test_a_render_whose_engine_dies_twice_is_reported_and_the_batch_goes_on(here):
    report = run_batch(three(here), [DyingEngine(deaths=2)], Recorder(), threading.Event())
    first, *others = report.outcomes
    assert (first.status, first.attempts) == ("failed", 2)
    assert first.error == "The model's process stopped (killed by signal 9)."
    assert not (here / "out" / "0.wav").exists()
    assert [o.status for o in others] == ["done", "done"] and report.failed


def test_any_other_error_fails_its_render_alone(here):
    class Deaf(ScriptedEngine):
        def transcribe(self, samples, sample_rate):
            raise NoSpeechFound("Whisper heard no words in the voice reference.")

    jobs = jobs_of(here, [{"script": "[S1] Fine.", "output": "1.wav"},
                          {"script": "[S1] Needs Whisper.", "voices": ["s1.wav"], "output": "2.wav"},
                          {"script": "[S1] Fine too.", "output": "3.wav"}])
    report = run_batch(jobs, [Deaf()], Recorder(), threading.Event())
    assert [o.status for o in report.outcomes] == ["done", "failed", "done"]
    assert report.outcomes[1].error == "Whisper heard no words in the voice reference."
    assert report.outcomes[1].attempts == 1  # not the engine's death: not tried again
    assert report.summary().endswith("2 done, 1 failed")


def test_renders_already_rendered_are_skipped_unless_forced(here):
    jobs = three(here)
    run_batch(jobs, [ScriptedEngine()], Recorder(), threading.Event())
    (here / "out" / "1.wav").unlink()
    engine, progress = ScriptedEngine(), Recorder()
    report = run_batch(jobs, [engine], progress, threading.Event())
    assert [o.status for o in report.outcomes] == ["skipped", "done", "skipped"]
    assert progress.calls[0] == ("begin", 3, 2, 1) and len(engine.requests) == 1
    forced = run_batch(jobs, [ScriptedEngine()], Recorder(), threading.Event(), force=True)
    assert [o.status for o in forced.outcomes] == ["done"] * 3


def test_a_cancel_writes_nothing_unfinished_and_leaves_the_rest_pending(here):
    cancel = threading.Event()

    class Interrupted(ScriptedEngine):
        def generate(self, request, cancel_event):
            cancel.set()  # Ctrl-C while the take is made: the engine ends it with what was made
            yield TakeStarted(0, request.params.seed)
            yield TakeResult(0, request.params.seed, request.params, np.zeros(2400, np.float32), 24000, None, [],
                             complete=False)

    report = run_batch(three(here), [Interrupted()], Recorder(), cancel)
    assert report.interrupted and [o.status for o in report.outcomes] == ["interrupted", "pending", "pending"]
    assert not (here / "out").exists() or not any((here / "out").iterdir())
    assert report.summary().startswith("3 renders interrupted after ")


def test_a_killed_write_s_leftover_is_cleared_when_the_render_runs_again(here):
    jobs = three(here)[:1]
    (here / "out").mkdir()
    leftover = here / "out" / ".0.wav.1a2b3c4d.part"  # what write_atomically had begun when killed
    leftover.write_bytes(b"half a file")
    report = run_batch(jobs, [ScriptedEngine()], Recorder(), threading.Event())
    assert report.outcomes[0].status == "done" and not leftover.exists()
    assert sorted(path.name for path in (here / "out").iterdir()) == ["0.wav"]


def test_a_batch_that_needs_a_model_refuses_to_run_without_an_engine(here):
    with pytest.raises(ValueError, match="no engine was given"):
        run_batch(three(here), [], Recorder(), threading.Event())
