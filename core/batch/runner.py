"""Runs a batch's renders on engines: one at a time on one engine, side by side on several (a
thread per engine, each taking the next render waiting). A render whose engine died
(``EngineFailed``) is tried once more, on whichever engine is free first; any other error fails
that render alone, and the batch goes on. Renders already rendered are skipped, unless forced: a
render is rendered when its files all exist and were written since the latest forced run began
(``forced_mark``), which set out to write them all again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from core.batch.jobs import Rendered
from core.engine.engine import Engine, EngineFailed
from core.errors import describe_error

ATTEMPTS = 2  # a render whose engine died is tried once more


class Job(Protocol):
    """One render of the batch (``core.batch.jobs``)."""

    name: str  # where the manifest gives it, for messages and the report
    needs_model: bool

    @property
    def outputs(self) -> tuple[Path, ...]: ...

    def run(self, engine: Engine | None, cancel: threading.Event, made: Rendered) -> None:
        """Render on ``engine`` (None: the job needs no model), noting in ``made`` what it makes;
        raises Cancelled once ``cancel`` is set."""


@dataclass
class Outcome:
    """What became of one render, as the report says it."""

    name: str
    status: str  # done, skipped, failed; interrupted (running at the cancel), pending (never started)
    outputs: list[Path]
    seconds: float | None = None
    error: str | None = None
    seeds: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    attempts: int = 0
    checks: list[dict] = field(default_factory=list)  # a best-of render's takes, each with its checks


@dataclass
class BatchReport:
    outcomes: list[Outcome]  # in the manifest's order
    interrupted: bool
    seconds: float

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def summary(self) -> str:
        parts = [f"{self.count(status)} {status}" for status in ("done", "skipped", "failed", "interrupted", "pending")
                 if self.count(status) or status in ("done", "failed")]
        head = "interrupted after" if self.interrupted else "finished in"
        return f"{len(self.outcomes)} renders {head} {_duration(self.seconds)}: " + ", ".join(parts)

    def to_json(self) -> dict:
        counts = {status: self.count(status) for status in ("done", "skipped", "failed", "interrupted", "pending")}
        return {"interrupted": self.interrupted, "seconds": round(self.seconds, 2), "counts": counts,
                "renders": [{"name": o.name, "status": o.status, "outputs": [str(path) for path in o.outputs],
                             "seconds": None if o.seconds is None else round(o.seconds, 2), "error": o.error,
                             "seeds": o.seeds, "notices": o.notices, "attempts": o.attempts,
                             **({"checks": o.checks} if o.checks else {})}
                            for o in self.outcomes]}


class BatchProgress(Protocol):
    """Told how the batch goes, from the engines' threads (one call at a time)."""

    def begin(self, total: int, skipped: int, engines: int) -> None: ...

    def started(self, job: Job) -> None: ...

    def retrying(self, job: Job, reason: str) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


def forced_mark(manifest: Path) -> Path:
    """The file whose time says when the latest forced run of ``manifest`` began."""
    return manifest / ".batch-forced" if manifest.is_dir() else manifest.with_name(f".{manifest.name}.forced")


def mark_forced_run(manifest: Path) -> None:
    """Note that a forced run of ``manifest`` begins now (the file's time is ``forced_since``'s)."""
    forced_mark(manifest).write_text("dia-studio batch --force began when this file was written: the output files "
                                     "older than it are not rendered again yet.\n", encoding="utf-8")


def forced_since(manifest: Path) -> int | None:
    """When the latest forced run of ``manifest`` began (a file time in ns); None: never forced."""
    try:
        return forced_mark(manifest).stat().st_mtime_ns
    except FileNotFoundError:
        return None


def already_rendered(job: Job, forced_ns: int | None = None) -> bool:
    """Its files all exist, written since the forced run of ``forced_ns`` began: a file older than
    that is one the forced run had not yet rendered again (it was interrupted, or the render failed)."""
    return bool(job.outputs) and all(path.is_file() and path.stat().st_mtime_ns >= (forced_ns or 0)
                                     for path in job.outputs)


def run_batch(jobs: Sequence[Job], engines: Sequence[Engine], progress: BatchProgress,
              cancel: threading.Event, force: bool = False, forced_ns: int | None = None) -> BatchReport:
    """Render ``jobs`` on ``engines`` (loaded; empty when no job needs a model), skipping those
    already rendered (since the forced run of ``forced_ns``) unless ``force``. Returns when all are
    done, or when those running have stopped after ``cancel`` was set (the report is then marked
    interrupted)."""
    started = time.monotonic()
    outcomes = [Outcome(job.name, "pending", list(job.outputs)) for job in jobs]
    waiting: deque[tuple[int, int]] = deque()  # (job index, attempt)
    for index, job in enumerate(jobs):
        if not force and already_rendered(job, forced_ns):
            outcomes[index].status = "skipped"
        else:
            waiting.append((index, 1))
    lock = threading.Lock()
    workers = list(engines) or [None]
    if any(jobs[index].needs_model for index, _ in waiting) and not engines:
        raise ValueError("run_batch: these renders need a model, and no engine was given")

    def told(call, *args) -> None:
        with lock:
            call(*args)

    def work(engine) -> None:
        while not cancel.is_set():
            with lock:
                if not waiting:
                    return
                index, attempt = waiting.popleft()
            job, outcome = jobs[index], outcomes[index]
            outcome.attempts = attempt
            told(progress.started, job)
            began, made, failure = time.monotonic(), Rendered(), None
            try:
                job.run(engine, cancel, made)
            except Exception as error:
                failure = error
            outcome.seconds = time.monotonic() - began
            # of a failed render: as far as it got
            outcome.seeds, outcome.notices, outcome.checks = made.seeds, made.notices, made.checks
            if failure is None:
                outcome.status, outcome.outputs = "done", made.outputs
            elif cancel.is_set():
                outcome.status = "interrupted"
            elif isinstance(failure, EngineFailed) and attempt < ATTEMPTS:
                with lock:
                    waiting.appendleft((index, attempt + 1))
                    progress.retrying(job, describe_error(failure))
                continue
            else:
                outcome.status, outcome.error = "failed", describe_error(failure, "The render failed")
            told(progress.finished, outcome)

    progress.begin(len(jobs), len(jobs) - len(waiting), len(workers))
    threads = [threading.Thread(target=work, args=(engine,), name=f"batch-engine-{number}", daemon=True)
               for number, engine in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return BatchReport(outcomes, cancel.is_set(), time.monotonic() - started)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
