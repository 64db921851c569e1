"""``dia-studio batch MANIFEST``: many renders in one go (``core.batch``), with a progress bar on
stderr, resumable (renders whose files exist are skipped, unless a forced run began after them),
and a JSON report of each render.

The manifest is read and checked whole before the model loads (its scripts too, as far as they
can be without the model; against the model before anything renders): a bad manifest costs
seconds and writes nothing (exit status 2), or, with --skip-bad, its bad renders are reported
failed and the others rendered. A failed render is reported and the others go on (exit status 1);
Ctrl-C stops the renders running, writes the report marked interrupted and exits with 130.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from pathlib import Path

from app.command_line import (EXIT_CANCELLED, CommandLineError, add_export_arguments, add_format_argument,
                              add_lexicon_argument, add_model_arguments, check_loudness, check_threads, given_flags,
                              load_engine, read_lexicons, run_command, say)
from app.cluster_flags import add_cluster_arguments, check_cluster_flags
from core.errors import describe_error
from core.params import DEFAULT_MODEL, MODEL_IDS

EXIT_FAILED = 1
FOLDER_FLAGS = ("--out-dir", "--format", "--sample-rate", "--bitrate", "--channels", "--loudness", "--stems")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dia-studio batch",
        description="Render every render of a manifest: a JSON or CSV list of scripts, voices, parameters and "
                    "output files, or a folder of .diastudio projects.",
        epilog="Renders whose output files all exist are skipped (a rerun after an interruption finishes the "
               "rest), unless the files are older than the latest --force run: it had not rendered them again yet. "
               "Files are written whole or not at all. See docs/command-line.md, \"Batch rendering\", for the manifest.")
    parser.add_argument("manifest", type=Path, metavar="MANIFEST",
                        help="a .json or .csv manifest, or a folder of .diastudio projects")
    parser.add_argument("--force", action="store_true", help="render again the renders already rendered")
    parser.add_argument("--skip-bad", action="store_true",
                        help="render the good renders of a manifest with bad ones, reporting each bad one failed "
                             "(exit status 1; default: refuse the whole manifest)")
    parser.add_argument("--report", type=Path, metavar="FILE.json",
                        help="where the report goes (default: MANIFEST-report.json beside it; for a folder, "
                             "batch-report.json in it)")
    add_model_arguments(parser, None, "; a folder's projects need it only for lines without a take")
    add_lexicon_argument(parser)
    parser.add_argument("--engine", choices=["in-process", "own-process"], default="in-process",
                        help="where the model runs: in this process, or its own (a crash of the model fails "
                             "the render running, which is tried once more)")
    parser.add_argument("--whisper-model", default=None,
                        help="Whisper model for voices given without words or text (default: large-v3 on a GPU, "
                             "small on a processor)")
    folder = parser.add_argument_group("with a folder of projects")
    folder.add_argument("--out-dir", type=Path,
                        help="where the files go, made if missing (default: the folder itself)")
    add_format_argument(folder, "MP3")
    add_export_arguments(folder)
    folder.add_argument("--stems", action="store_true",
                        help="also write each speaker's file beside each project's (NAME.S1-Ann.mp3 …), as "
                             "render --project --stems does; a manifest asks per render (\"stems\": true)")
    add_cluster_arguments(parser, scaling=False)
    return parser


def run_batch_command(argv: list[str]) -> int:
    # Ctrl-C here is before the renders start (while loading the model); during them _run has it.
    return run_command("batch", build_parser(), _batch, argv)


def _batch(args: argparse.Namespace, cancel: threading.Event) -> int:
    from core.batch.manifest import FolderOptions, read_manifest
    from core.batch.runner import forced_since

    _check_flags(args)
    folder = args.manifest.is_dir()
    report_path = args.report or (args.manifest / "batch-report.json" if folder else
                                  args.manifest.with_name(f"{args.manifest.stem}-report.json"))
    options = FolderOptions(args.out_dir, _folder_settings(args), args.loudness, args.stems)
    jobs = read_manifest(args.manifest, _model_id(args), options, args.skip_bad, read_lexicons(args.lexicon))
    forced_ns = forced_since(args.manifest)
    if folder and args.model is None and args.ray is None:
        jobs = _without(args, jobs, _untaken(_pending(args, jobs, forced_ns)))
    pending = _pending(args, jobs, forced_ns)
    if len(pending) < len(jobs):
        say(f"skipped {len(jobs) - len(pending)} already rendered (--force renders them again)")
    engines = _open_engines(args) if any(job.needs_model for job in pending) else []
    try:
        jobs = _without(args, jobs, _unspeakable(pending, engines))
        _make_out_dir(args.out_dir)
        if args.force:
            _mark_forced_run(args.manifest)
        report = _run(jobs, engines, cancel, args.force, forced_ns)
    finally:
        for engine in engines:
            engine.close()
    _write_report(report_path, args.manifest, report)
    say(f"{report.summary()}; report: {report_path}")
    if report.interrupted:
        return EXIT_CANCELLED
    return EXIT_FAILED if report.failed else 0


def _check_flags(args: argparse.Namespace) -> None:
    check_threads(args)
    check_loudness(args)
    try:
        check_cluster_flags(args)
    except ValueError as error:
        raise CommandLineError(str(error)) from None
    if args.stems and not args.manifest.is_dir():
        raise CommandLineError('--stems applies only to a folder of projects: a manifest asks for stems render by '
                               'render, with "stems": true (the CSV column stems)')
    if not args.manifest.is_dir() and given_flags(args, FOLDER_FLAGS):
        raise CommandLineError(f"{given_flags(args, FOLDER_FLAGS)[0]} applies only to a folder of projects: a "
                               "manifest names each output file, its format by its extension and its audioSettings")
    if args.out_dir is not None and args.out_dir.exists() and not args.out_dir.is_dir():
        raise CommandLineError(f"--out-dir {args.out_dir} is a file: give a folder")
    if args.report is not None and not args.report.parent.is_dir():
        raise CommandLineError(f"--report {args.report}: the folder {args.report.parent} does not exist")


def _pending(args: argparse.Namespace, jobs: list, forced_ns: int | None) -> list:
    """The renders to render: all with --force, else those not rendered since the latest forced run."""
    from core.batch.runner import already_rendered

    return [job for job in jobs if args.force or not already_rendered(job, forced_ns)]


def _without(args: argparse.Namespace, jobs: list, problems: dict[str, str]) -> list:
    """``jobs``, those with ``problems`` (render name → what is wrong, named) refused: with --skip-bad
    they fail at once and the others go on; else the whole batch is refused before anything renders."""
    from core.batch.jobs import RefusedRender
    from core.batch.manifest import ManifestError

    if problems and not args.skip_bad:
        raise ManifestError(args.manifest, list(problems.values()))
    return [RefusedRender(job.name, [problems[job.name]]) if job.name in problems else job for job in jobs]


def _make_out_dir(out_dir: Path | None) -> None:
    if out_dir is None or out_dir.is_dir():
        return
    try:
        out_dir.mkdir(parents=True)
    except OSError as error:
        raise CommandLineError(f"--out-dir {out_dir} could not be made: {describe_error(error)}") from None
    say(f"made the folder {out_dir} (--out-dir)")


def _mark_forced_run(manifest: Path) -> None:
    """Noted beside the manifest: should this run be cut short, a rerun renders what it had not yet."""
    from core.batch.runner import forced_mark, mark_forced_run

    try:
        mark_forced_run(manifest)
    except OSError as error:
        raise CommandLineError(f"the forced run could not be noted in {forced_mark(manifest)}: "
                               f"{describe_error(error)}") from None


def _model_id(args: argparse.Namespace) -> str:
    """The model id the renders' parameters name (as ``render``: a folder or Hub id names the default's)."""
    return args.model if args.model in MODEL_IDS else DEFAULT_MODEL


def _folder_settings(args: argparse.Namespace):
    from core.audio.formats import ExportSettings

    return ExportSettings.create(args.format or "MP3", sample_rate=args.sample_rate, bitrate=args.bitrate,
                                 channels=args.channels)


def _open_engines(args: argparse.Namespace) -> list:
    """The engines the renders run on, loaded: a Ray cluster's (``--ray``), or one here."""
    if args.ray is not None:
        try:
            from app.cluster.batch_engines import open_cluster_engines
        except ImportError:
            raise CommandLineError("--ray needs the cluster extra: pip install 'dia-studio[cluster]'") from None
        return open_cluster_engines(args)
    return [load_engine(args, args.engine)]


def _untaken(jobs: list) -> dict[str, str]:
    """Without --model, the projects to render must have a take for each line (as ``render --project``)."""
    problems = {}
    for job in jobs:
        if job.needs_model:
            one = job.untaken.startswith("line ")
            problems[job.name] = (f"{job.name}: {job.untaken} {'has' if one else 'have'} no current take: give the "
                                  f"model to generate {'it' if one else 'them'} with --model")
    return problems


def _unspeakable(jobs: list, engines: list) -> dict[str, str]:
    """The scripts the model cannot speak (its tokenizer's say; the rest was checked with the manifest)."""
    from core.batch.jobs import ScriptRender
    from core.dia2.script import UnspeakableScript

    problems = {}
    for job in jobs:
        if isinstance(job, ScriptRender):
            try:
                engines[0].parse(job.script)
            except UnspeakableScript as error:
                problems[job.name] = f"{job.name}, script: {error}"
    return problems


def _run(jobs: list, engines: list, cancel: threading.Event, force: bool, forced_ns: int | None):
    """``run_batch`` on a thread, so that Ctrl-C here cancels the renders and waits for them to stop."""
    from core.batch.runner import run_batch

    progress = ProgressBar(sys.stderr)
    result, done = {}, threading.Event()

    def work() -> None:
        try:
            result["report"] = run_batch(jobs, engines, progress, cancel, force, forced_ns)
        finally:
            done.set()

    threading.Thread(target=work, name="batch", daemon=True).start()
    # An Event, not Thread.join: a join cut by Ctrl-C can take the thread for ended when it is not.
    while not done.is_set():
        try:
            done.wait(timeout=0.25)
        except KeyboardInterrupt:
            if not cancel.is_set():
                cancel.set()
                progress.say("cancelling: stopping the renders running …")
    progress.end()
    if "report" not in result:
        raise CommandLineError("the batch stopped on an error of its own: see above")
    return result["report"]


def _write_report(path: Path, manifest: Path, report) -> None:
    from core.audio.atomic_write import write_atomically

    content = json.dumps({"manifest": str(manifest.resolve()), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                          **report.to_json()}, indent=2, ensure_ascii=False)
    try:
        write_atomically(path, lambda temporary: temporary.write_text(content + "\n", encoding="utf-8"))
    except OSError as error:
        raise CommandLineError(f"the report could not be written to {path}: {describe_error(error)}") from None


class ProgressBar:
    """The batch's progress on stderr: on a terminal one line redrawn
    (``[#####.....] 5/10 renders · 1 failed · eta 2 min``); elsewhere one line per finished render."""

    WIDTH = 20

    def __init__(self, stream):
        self.stream = stream
        self.live = stream.isatty()
        self.total = self.finished_count = self.failed = self.engines = 0
        self.running: list[str] = []
        self.spent: list[float] = []  # seconds of each render finished here
        self._drawn = False

    def begin(self, total: int, skipped: int, engines: int) -> None:
        self.total, self.finished_count, self.engines = total, skipped, engines
        self._draw()

    def started(self, job) -> None:
        self.running.append(job.name)
        self._draw()

    def retrying(self, job, reason: str) -> None:
        self.running.remove(job.name)
        self.say(f"{job.name}: {reason}: trying it once more")

    def finished(self, outcome) -> None:
        if outcome.name in self.running:
            self.running.remove(outcome.name)
        self.finished_count += outcome.status != "interrupted"
        self.failed += outcome.status == "failed"
        if outcome.status == "done":
            self.spent.append(outcome.seconds)
        if self.live:
            if outcome.status == "failed":
                self.say(f"{outcome.name}: failed: {outcome.error}")
            self._draw()
        else:
            said = {"done": f"wrote {', '.join(map(str, outcome.outputs))} ({outcome.seconds:.1f} s)",
                    "failed": f"failed: {outcome.error}", "interrupted": "interrupted"}[outcome.status]
            self.say(f"{self.finished_count}/{self.total} {outcome.name}: {said}")
            for notice in outcome.notices:
                self.say(f"  note: {notice}")

    def say(self, message: str) -> None:
        self._clear()
        print(message, file=self.stream, flush=True)
        self._draw()

    def end(self) -> None:
        self._clear()

    def line(self) -> str:
        filled = round(self.WIDTH * self.finished_count / self.total) if self.total else self.WIDTH
        parts = [f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.finished_count}/{self.total} renders"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        eta = self._eta()
        if eta is not None:
            parts.append(f"eta {eta}")
        if self.running:
            parts.append(", ".join(self.running))
        return " · ".join(parts)

    def _eta(self) -> str | None:
        if not self.spent:
            return None
        left = self.total - self.finished_count
        seconds = sum(self.spent) / len(self.spent) * left / max(1, self.engines)
        return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"

    def _draw(self) -> None:
        if self.live:
            width = shutil.get_terminal_size().columns - 1  # a line as wide as the terminal would wrap
            self.stream.write("\r\x1b[K" + self.line()[:width])
            self.stream.flush()
            self._drawn = True

    def _clear(self) -> None:
        if self.live and self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False
