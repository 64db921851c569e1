"""The studio left open all afternoon: a scripted session (``bench/studio_session.py``: open the
project, generate, regenerate a line, hear it, keep a take, speak a line as it is typed, undo and
redo, autosave, export, save) repeated on the real window offscreen, the tiny checkpoint on each
engine in turn, while the studio's memory, threads and open files (and its model process's, on
the own-process engine) are read from /proc at each quiet moment between cycles.

    python bench/soak_studio.py [--minutes 20] [--engine in-process|own-process|both] [--window-s 120]
                                [--warm-up-s SECONDS] [--max-cycles 500] [--memory-goal-mb 50] [--cores N]
                                [--warm-voices-mb MB] [--out DIR]

Bounded: it stops by itself after ``--minutes`` (shared between the engines; a cycle begun goes on
to its end) or ``--max-cycles`` cycles per engine, or at the first wait that times out; SIGTERM or
Ctrl+C ends the cycle running and reports what was done. Per window
of ``--window-s``: actions per minute and latency percentiles per kind. At the end, in ``--out``
(default bench/results/soak-studio-TIME): report.json, table.txt and soak-studio.png, and a
verdict per metric, flat or drifting, with its least-squares slope after the warm-up.

Exit status 1 when a goal fails: memory growing 50 MB or more an hour after the warm-up (the run's
slope projected), threads or open files whose floor rose, or anything lost (a take made missing
from the document, an autosave, export or save that does not load back whole, an error said, a
wait that timed out). Actions per minute and p95 latencies get a verdict (±10 % first window to
last) but fail nothing: on a shared machine they say as much about the neighbours.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.drift import (MEMORY_GOAL_MB, Action, ProcessSample, Series, Verdict, ceiling_verdict,  # noqa: E402
                         count_verdict, least_squares, memory_verdict, objects_held_by, percentile, sample_process,
                         speed_verdict, windows_of)
from bench.drift_plot import COLOURS, Line, Panel, draw, fitted  # noqa: E402

ENGINES = ("in-process", "own-process")
PROCESSES = ("studio", "model process")
# Where the model keeps its warm voice states: memory the setting bounds, judged apart from a leak.
WARM_VOICES_IN = {"in-process": "studio", "own-process": "model process"}
WARM_VOICES = "warm voice states"
LESS_WARM_VOICES = " less warm voices"


@dataclass
class EngineRun:
    """One engine's part of the soak, as it happened."""

    engine: str
    duration_s: float = 0.0
    actions: list[Action] = field(default_factory=list)
    samples: dict[str, list[ProcessSample]] = field(default_factory=lambda: {name: [] for name in PROCESSES})
    # Clues to a leak's cause, read in the studio: Python objects the collector tracks (less the
    # soak's own records), Qt widgets.
    objects: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: {"python objects": [], "widgets": []})
    cycles: list = field(default_factory=list)  # studio_session.Cycle
    stalled: str | None = None
    # The engine's own word on what its warm voice states hold (MB), at each sample, and their bound.
    warm_voices: list[tuple[float, float]] = field(default_factory=list)
    warm_voices_bound_mb: float | None = None


class StopRequest:
    """SIGTERM or Ctrl+C: the cycle running ends, then the soak reports what it did."""

    def __init__(self):
        self.signal: str | None = None

    def __call__(self, number, frame) -> None:
        self.signal = signal.Signals(number).name


def run_engine(engine: str, seconds: float, max_cycles: int, folder: Path, seed: int,
               stop: StopRequest, warm_voices_mb: int | None = None) -> EngineRun:
    """Cycle the studio on ``engine`` for ``seconds`` (or ``max_cycles``, or until ``stop``),
    sampling after each and saying each on stdout; ``warm_voices_mb``: the engine's bound on the
    voice states it keeps (None: the studio's default)."""
    from PySide6.QtWidgets import QApplication

    from bench.studio_session import Cycle, Stalled, StudioSession
    from core.engine.engine import EngineKind

    run = EngineRun(engine)
    started = time.perf_counter()
    clock = lambda: time.perf_counter() - started  # noqa: E731
    folder.mkdir(parents=True, exist_ok=True)
    session = StudioSession(EngineKind(engine), folder, run.actions.append, clock, seed, warm_voices_mb)

    def sample() -> None:
        at = clock()
        run.samples["studio"].append(sample_process(os.getpid(), at))
        pid = session.model_pid()
        if pid is not None:
            try:
                run.samples["model process"].append(sample_process(pid, at))
            except FileNotFoundError:  # it ended (the engine starts another at its next call)
                pass
        held = len(gc.get_objects()) - objects_held_by(run)  # the soak's own records left out
        run.objects["python objects"].append((at, held / 1000))
        run.objects["widgets"].append((at, len(QApplication.allWidgets())))
        held = session.studio.models.engine.memory().warm_voices_bytes
        if held is not None:
            run.warm_voices.append((at, held / 2**20))
        last = run.samples["studio"][-1]
        print(f"{engine}: cycle {len(run.cycles)} at {at / 60:.1f} min, studio {last.rss_mb:.1f} MB, "
              f"{last.threads} threads, {last.open_files} files", flush=True)

    try:
        session.open()
        session.settle()
        run.warm_voices_bound_mb = session.studio.settings.warm_voices_mb
        sample()
        while clock() < seconds and len(run.cycles) < max_cycles and stop.signal is None:
            cycle = Cycle(len(run.cycles))
            run.cycles.append(cycle)
            session.cycle(cycle)
            session.settle()
            sample()
    except Stalled as stalled:
        run.stalled = str(stalled)
    finally:
        if stop.signal is not None:
            run.stalled = f"stopped by {stop.signal} before its time"
        run.duration_s = clock()
        if session.studio is not None:
            session.close()
    return run


@dataclass
class Verdicts:
    """An engine's verdicts, and what its series were fitted to (for the plot)."""

    verdicts: list[Verdict]
    series: list[tuple[str, Series]]  # (process, series)


def series_of(run: EngineRun) -> list[tuple[str, Series]]:
    found = []
    warm = dict(run.warm_voices)
    for process in PROCESSES:
        samples = run.samples[process]
        if samples:
            found.append((process, Series(f"{process} memory", "MB", [(s.at_s, s.rss_mb) for s in samples])))
            if warm and WARM_VOICES_IN[run.engine] == process:
                found += [(process, Series(WARM_VOICES, "MB", run.warm_voices)),
                          (process, Series(f"{process} memory{LESS_WARM_VOICES}", "MB",
                                           [(s.at_s, s.rss_mb - warm[s.at_s]) for s in samples if s.at_s in warm]))]
            found += [(process, Series(f"{process} threads", "", [(s.at_s, s.threads) for s in samples])),
                      (process, Series(f"{process} open files", "", [(s.at_s, s.open_files) for s in samples]))]
    found.append(("studio", Series("python objects", "thousands", run.objects["python objects"])))
    found.append(("studio", Series("widgets", "", run.objects["widgets"])))
    return found


def judge(run: EngineRun, window_s: float, warm_up_s: float, memory_goal_mb: float) -> list[Verdict]:
    verdicts = []
    every = series_of(run)
    apart = {series.metric.removesuffix(LESS_WARM_VOICES) for _, series in every
             if series.metric.endswith(LESS_WARM_VOICES)}
    for _, series in every:
        if series.metric == WARM_VOICES:
            verdicts.append(ceiling_verdict(series, run.warm_voices_bound_mb))
        elif series.metric.endswith(("memory", LESS_WARM_VOICES)):
            verdict = memory_verdict(series, warm_up_s, memory_goal_mb)
            # With the warm voices read, a leak is what grows besides them: their growth is bounded.
            verdict.goal = series.metric not in apart
            verdicts.append(verdict)
        else:
            verdict = count_verdict(series, warm_up_s, window_s)
            verdict.goal = series.metric not in run.objects  # a clue to a leak's cause, not a goal
            verdicts.append(verdict)
    windows = windows_of(run.actions, run.duration_s, window_s)
    verdicts.append(speed_verdict(Series("actions per minute", "", [(w.start_s, w.actions_per_minute)
                                                                    for w in windows]), warm_up_s))
    for kind in sorted({action.kind for action in run.actions}):
        points = [(w.start_s, w.latency[kind]["p95"]) for w in windows if kind in w.latency]
        verdicts.append(speed_verdict(Series(f"p95 {kind}", "s", points), warm_up_s))
    return verdicts


def accounting(run: EngineRun) -> dict:
    """What the run did, counted, and what it found lost."""
    cycles = run.cycles
    problems = [f"cycle {cycle.number}: {problem}" for cycle in cycles for problem in cycle.problems]
    if run.stalled:
        problems.append(f"stalled: {run.stalled}")
    return {"cycles": len(cycles), "actions": len(run.actions),
            "actions_by_kind": dict(sorted(Counter(action.kind for action in run.actions).items())),
            "takes_made": sum(cycle.takes_made for cycle in cycles),
            "generations_cancelled": sum(cycle.cancelled for cycle in cycles),
            "autosaves_checked": sum(cycle.autosave_checked for cycle in cycles),
            "exports_checked": sum(cycle.export_checked for cycle in cycles),
            "saves_checked": sum(cycle.save_checked for cycle in cycles),
            "problems": problems, "nothing_lost": not problems}


def engine_report(run: EngineRun, window_s: float, warm_up_s: float, memory_goal_mb: float) -> dict:
    windows = windows_of(run.actions, run.duration_s, window_s)
    verdicts = judge(run, window_s, warm_up_s, memory_goal_mb)
    counted = accounting(run)
    return {"engine": run.engine, "duration_s": run.duration_s, "accounting": counted,
            "windows": [asdict(window) for window in windows],
            "samples": {process: [asdict(s) for s in samples] for process, samples in run.samples.items()},
            "objects": run.objects,
            "warm_voices_mb": run.warm_voices, "warm_voices_bound_mb": run.warm_voices_bound_mb,
            "actions": [[action.kind, round(action.at_s, 3), round(action.latency_s, 4)] for action in run.actions],
            "cycles": [asdict(cycle) for cycle in run.cycles],
            "verdicts": [verdict.as_dict() for verdict in verdicts],
            "goals_met": counted["nothing_lost"] and all(v.flat is not False for v in verdicts if v.goal)}


def _last_in(samples: list[dict], window: dict, last_window: bool) -> dict | None:
    """The process as last read by the window's end (the last window: at the run's end)."""
    before = [sample for sample in samples if last_window or sample["at_s"] <= window["end_s"]]
    return before[-1] if before else None


def _number(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(report: dict) -> str:
    """The report as text: per engine its windows (the processes as last read in each), the
    latencies per kind (p95 per window), its verdicts and its accounting."""
    out = [f"machine: {report['machine']}; the studio on {report['cores']} cores; "
           f"load average at the start {report['load_average'][0]:.2f}, "
           f"at the end {report['load_average_end'][0]:.2f}",
           f"soak: {report['minutes']:g} min, windows of {report['window_s']:g} s, warm-up {report['warm_up_s']:g} s"]
    for engine in report["engines"]:
        counted, windows = engine["accounting"], engine["windows"]
        processes = [process for process in PROCESSES if engine["samples"][process]]
        out += ["", f"{engine['engine']} engine: {engine['duration_s'] / 60:.1f} min, {counted['cycles']} cycles, "
                    f"{counted['actions']} actions"]
        rows = [["window", "minutes", "actions/min"] + [f"{process} {what}" for process in processes
                                                        for what in ("MB", "threads", "files")]]
        for window in windows:
            row = [str(window["index"] + 1), f"{window['start_s'] / 60:.1f}–{window['end_s'] / 60:.1f}",
                   f"{window['actions_per_minute']:.1f}"]
            for process in processes:
                last = _last_in(engine["samples"][process], window, window is windows[-1])
                row += ["–"] * 3 if last is None else [f"{last['rss_mb']:.1f}", str(last["threads"]),
                                                       str(last["open_files"])]
            rows.append(row)
        out += _aligned(rows) + [""]
        kinds = sorted({kind for window in windows for kind in window["latency"]})
        rows = [["latency (s)", "count", "p50"] + [f"p95 w{window['index'] + 1}" for window in windows]]
        for kind in kinds:
            latencies = [latency for name, _, latency in engine["actions"] if name == kind]
            rows.append([kind, str(len(latencies)), _number(percentile(latencies, 0.5), 3)]
                        + [_number(window["latency"].get(kind, {}).get("p95"), 3) for window in windows])
        out += _aligned(rows) + [""]
        rows = [["metric", "first", "last", "slope/h", "verdict", "goal", "rule"]]
        for verdict in engine["verdicts"]:
            slope = verdict["slope_per_hour"]
            rows.append([verdict["metric"] + (f" ({verdict['unit']})" if verdict["unit"] else ""),
                         _number(verdict["first"], 2), _number(verdict["last"], 2),
                         "–" if slope is None else f"{slope:+.2f}",
                         verdict["verdict"] + (f" ({verdict['note']})" if verdict["note"] else ""),
                         "goal" if verdict["goal"] else "info", verdict["rule"]])
        out += _aligned(rows)
        out.append(f"nothing lost: {'yes' if counted['nothing_lost'] else 'NO'} — {counted['takes_made']} takes made, "
                   f"{counted['generations_cancelled']} generations cancelled, {counted['autosaves_checked']} autosaves, "
                   f"{counted['exports_checked']} exports and {counted['saves_checked']} saves loaded back whole")
        out += [f"  problem: {problem}" for problem in counted["problems"][:20]]
        out.append(f"goals: {'met' if engine['goals_met'] else 'NOT met'}")
    return "\n".join(out) + "\n"


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows if column < len(row)) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def plot(runs: list[EngineRun], report: dict, path: Path) -> None:
    """A panel per metric, a line per engine (in its colour throughout); the p95 latencies a panel
    per engine. Time is minutes into each engine's run."""
    warm_up = [(0.0, report["warm_up_s"])]
    colour = {engine: COLOURS[number] for number, engine in enumerate(ENGINES)}
    panels: dict[str, Panel] = {}
    for run in runs:
        for _, series in series_of(run):
            panel = panels.setdefault(series.metric, Panel(series.metric, series.unit, shaded=warm_up))
            fit = least_squares(series.after(warm_up[0][1]))
            panel.lines.append(Line(run.engine, series.points, fitted(series.points, fit, warm_up[0][1]),
                                    colour[run.engine]))
        windows = windows_of(run.actions, run.duration_s, report["window_s"])
        panel = panels.setdefault("actions per minute", Panel("actions per minute", "", shaded=warm_up))
        panel.lines.append(Line(run.engine, [((w.start_s + w.end_s) / 2, w.actions_per_minute) for w in windows],
                                colour=colour[run.engine]))
    ordered = list(panels.values())
    for run in runs:
        windows = windows_of(run.actions, run.duration_s, report["window_s"])
        latency = Panel(f"p95 latency per kind, {run.engine}", "s", shaded=warm_up)
        for kind in sorted({action.kind for action in run.actions}):
            latency.lines.append(Line(kind, [((w.start_s + w.end_s) / 2, w.latency[kind]["p95"])
                                             for w in windows if kind in w.latency]))
        ordered.append(latency)
    draw(ordered, path, f"Studio soak, {report['minutes']:g} min — {report['started']}")


def soak(args: argparse.Namespace) -> dict:
    from PySide6.QtWidgets import QApplication

    from bench.bench_runtime import machine

    app = QApplication.instance() or QApplication(["soak_studio"])
    out = Path(args.out or Path(__file__).parent / "results" / f"soak-studio-{datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    engines = list(ENGINES) if args.engine == "both" else [args.engine]
    warm_up_s = args.window_s if args.warm_up_s is None else args.warm_up_s
    cores = os.sched_getaffinity(0)
    if args.cores:  # before the model loads: its threads follow the cores the studio may use
        os.sched_setaffinity(0, sorted(cores)[:args.cores])
    report = {"machine": machine(), "qt_platform": app.platformName(), "cores": len(os.sched_getaffinity(0)),
              "load_average": os.getloadavg(), "started": f"{datetime.now():%Y-%m-%d %H:%M}",
              "minutes": args.minutes, "window_s": args.window_s, "warm_up_s": warm_up_s,
              "warm_voices_mb": args.warm_voices_mb, "engines": []}
    runs, stop = [], StopRequest()
    handlers = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        for engine in engines:
            if stop.signal is not None:
                break
            run = run_engine(engine, args.minutes * 60 / len(engines), args.max_cycles, out / "work" / engine,
                             args.seed + len(runs), stop, args.warm_voices_mb)
            runs.append(run)
            report["engines"].append(engine_report(run, args.window_s, warm_up_s, args.memory_goal_mb))
    finally:
        os.sched_setaffinity(0, cores)
        for number, handler in handlers.items():
            signal.signal(number, handler)
    report["load_average_end"] = os.getloadavg()
    report["goals_met"] = all(engine["goals_met"] for engine in report["engines"])
    (out / "report.json").write_text(json.dumps(report, indent=1))
    text = table(report)
    (out / "table.txt").write_text(text)
    plot(runs, report, out / "soak-studio.png")
    print(text + f"written to {out}", flush=True)
    return report


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="the whole soak, shared between the engines")
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="both")
    parser.add_argument("--window-s", type=float, default=120.0, help="the window actions are counted in")
    parser.add_argument("--warm-up-s", type=float, default=None, help="left out of the slopes (default: one window)")
    parser.add_argument("--max-cycles", type=int, default=500, help="per engine")
    parser.add_argument("--memory-goal-mb", type=float, default=MEMORY_GOAL_MB, help="growth allowed an hour")
    parser.add_argument("--seed", type=int, default=0, help="which lines are regenerated and typed")
    parser.add_argument("--warm-voices-mb", type=int, help="the engine's bound on the voice states it keeps "
                        "(default: the studio's; 0 keeps none)")
    parser.add_argument("--cores", type=int, help="the cores the studio (and its model process) may use; default: "
                        "all. On a machine shared with other work, 1 keeps the model's threads from waiting on "
                        "each other (latencies then measure the studio, not the neighbours)")
    parser.add_argument("--out", help="folder of the report, table and plot")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.window_s <= 0 or args.max_cycles < 1 or (args.cores is not None and args.cores < 1):
        parser.error("--minutes and --window-s must be positive, --max-cycles and --cores at least 1")
    if args.warm_voices_mb is not None and args.warm_voices_mb < 0:
        parser.error("--warm-voices-mb must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    from core.engine.memory import limit_malloc_arenas

    limit_malloc_arenas()  # as dia-studio does first thing (app.main): the studio here is this process
    faulthandler.enable()  # a crash of the studio says where, in the soak's log
    return 0 if soak(parse(argv))["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
