"""Whether a long run drifts: a process's resident memory, threads and open files read from /proc,
actions timed by kind and counted in windows of a few minutes, least-squares slopes after a
warm-up, and a verdict per metric (flat or drifting) against the soak's goals."""

from __future__ import annotations

import gc
import math
import os
import types
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

GOAL_MINUTES = 60.0  # memory's goal is over an hour: a run's slope is projected that far
MEMORY_GOAL_MB = 50.0
SPEED_TOLERANCE = 0.10  # actions per minute and p95 latencies: within ±10 % first window to last


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessFigures:
    """A process as Linux shows it in /proc (no psutil)."""

    rss_mb: float
    threads: int
    open_files: int  # every descriptor: files, pipes, sockets, eventfds (what lsof lists)
    by_kind: dict[str, int]  # the descriptors by kind ("file", "pipe", "socket", "anon_inode")
    thread_names: dict[str, int]  # the threads by name (a QThread's is its object name): who is left
    cpu_s: float  # user and system time since the process started

    @property
    def sockets(self) -> int:
        return self.by_kind.get("socket", 0)


def read_process(pid: int) -> ProcessFigures:
    """Read ``pid`` from /proc (Linux only); raises OSError once it has exited (ProcessLookupError
    for a zombie: exited, not yet reaped)."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    if "VmRSS" not in status:
        raise ProcessLookupError(f"process {pid} has exited")
    kinds: Counter[str] = Counter()
    for entry in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(entry.path)
        except OSError:  # closed between the listing and the look
            continue
        kinds[target.split(":", 1)[0] if ":" in target and not target.startswith("/") else "file"] += 1
    names: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            names[(task / "comm").read_text().strip()] += 1
        except OSError:  # ended while we looked
            continue
    # /proc/PID/stat: the name in parentheses may hold spaces; utime and stime are fields 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return ProcessFigures(int(status["VmRSS"].split()[0]) / 1024, int(status["Threads"]), sum(kinds.values()),
                          dict(sorted(kinds.items())), dict(sorted(names.items())),
                          (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)


@dataclass(frozen=True)
class ProcessSample:
    """One reading of a process, ``at_s`` seconds into the run (``read_process``'s figures)."""

    at_s: float
    rss_mb: float
    threads: int
    open_files: int
    by_kind: dict[str, int]
    thread_names: dict[str, int]


def sample_process(pid: int, at_s: float) -> ProcessSample:
    figures = read_process(pid)
    return ProcessSample(at_s, figures.rss_mb, figures.threads, figures.open_files, figures.by_kind,
                         figures.thread_names)


@dataclass(frozen=True)
class Action:
    """One thing done: its kind, when it ended (seconds into the run) and how long it took."""

    kind: str
    at_s: float
    latency_s: float


def objects_held_by(*roots: object) -> int:
    """How many of the garbage collector's objects ``roots`` hold, themselves included: a soak's
    own records, to leave out of the objects it counts (they grow by some twenty a cycle). Classes,
    modules and functions are not records: an instance refers to its class, and from there
    everything is reachable."""
    seen: set[int] = set()
    waiting = list(roots)
    while waiting:
        found = waiting.pop()
        if id(found) not in seen and gc.is_tracked(found) and not isinstance(found, _NOT_RECORDS):
            seen.add(id(found))
            waiting.extend(gc.get_referents(found))
    return len(seen)


_NOT_RECORDS = (type, types.ModuleType, types.FunctionType, types.MethodType, types.CodeType)


def percentile(values: list[float], fraction: float) -> float | None:
    """The value below which ``fraction`` of ``values`` lie (linear between neighbours)."""
    if not values:
        return None
    ordered = sorted(values)
    place = fraction * (len(ordered) - 1)
    low = math.floor(place)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (place - low)


@dataclass(frozen=True)
class Window:
    """A few minutes of the run: what was done in them, and the process as last read in them."""

    index: int
    start_s: float
    end_s: float
    actions: int
    actions_per_minute: float
    latency: dict[str, dict[str, float]]  # kind → {"count", "p50", "p95"} (seconds)


def windows_of(actions: list[Action], duration_s: float, window_s: float) -> list[Window]:
    """The run cut into windows of ``window_s`` (the last one shorter when the run is)."""
    windows = []
    count = max(1, math.ceil(duration_s / window_s - 1e-9))
    for index in range(count):
        start, end = index * window_s, min((index + 1) * window_s, duration_s)
        inside = [action for action in actions if start <= action.at_s < end or (index == count - 1 and action.at_s >= end)]
        by_kind: dict[str, list[float]] = {}
        for action in inside:
            by_kind.setdefault(action.kind, []).append(action.latency_s)
        latency = {kind: {"count": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95)}
                   for kind, values in sorted(by_kind.items())}
        minutes = max(end - start, 1e-9) / 60
        windows.append(Window(index, start, end, len(inside), len(inside) / minutes, latency))
    return windows


def least_squares(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(slope, intercept) of the line nearest the points; None for fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points))
    return slope, mean_y - slope * mean_x


@dataclass
class Verdict:
    """One metric over the run after the warm-up: its fitted slope (per hour), first and last
    values, and whether it stayed flat by its rule. ``goal``: a drift fails the soak."""

    metric: str
    unit: str
    rule: str
    goal: bool
    first: float | None = None
    last: float | None = None
    slope_per_hour: float | None = None
    flat: bool | None = None  # None: too few points after the warm-up to say
    note: str = ""

    @property
    def word(self) -> str:
        return "too short to tell" if self.flat is None else "flat" if self.flat else "drifting"

    def as_dict(self) -> dict:
        return asdict(self) | {"verdict": self.word}


@dataclass
class Series:
    """A metric read over time: (seconds into the run, value)."""

    metric: str
    unit: str
    points: list[tuple[float, float]] = field(default_factory=list)

    def after(self, warm_up_s: float) -> list[tuple[float, float]]:
        return [(at, value) for at, value in self.points if at >= warm_up_s]


def memory_verdict(series: Series, warm_up_s: float, goal_mb: float = MEMORY_GOAL_MB,
                   goal_minutes: float = GOAL_MINUTES) -> Verdict:
    """Flat when the least-squares growth after the warm-up, projected over ``goal_minutes``,
    stays under ``goal_mb``."""
    verdict = Verdict(series.metric, series.unit, f"growth after warm-up, projected over {goal_minutes:g} min, "
                      f"under {goal_mb:g} MB", goal=True)
    points = series.after(warm_up_s)
    fit = least_squares(points)
    if fit is None:
        return verdict
    verdict.first, verdict.last = points[0][1], points[-1][1]
    verdict.slope_per_hour = fit[0] * 3600
    projected = fit[0] * goal_minutes * 60
    verdict.flat = projected < goal_mb
    verdict.note = f"{projected:+.1f} MB over {goal_minutes:g} min"
    return verdict


def count_verdict(series: Series, warm_up_s: float, window_s: float) -> Verdict:
    """For counts (threads, open files): flat when the lowest value of the last window is no
    higher than the lowest of the first window after the warm-up. A leak raises the floor; a
    thread or file open for a moment only raises a peak."""
    verdict = Verdict(series.metric, series.unit, "the last window's floor no higher than the first's", goal=True)
    points = series.after(warm_up_s)
    fit = least_squares(points)
    if fit is None:
        return verdict
    first_floor = min(value for at, value in points if at < points[0][0] + window_s)
    last_floor = min(value for at, value in points if at > points[-1][0] - window_s)
    verdict.first, verdict.last = first_floor, last_floor
    verdict.slope_per_hour = fit[0] * 3600
    verdict.flat = last_floor <= first_floor
    return verdict


def ceiling_verdict(series: Series, ceiling: float) -> Verdict:
    """For what is bounded by design (the warm voice states by their setting): flat while no
    reading, warm-up included, is above ``ceiling``."""
    verdict = Verdict(series.metric, series.unit, f"never above its bound, {ceiling:g}", goal=True)
    fit = least_squares(series.points)
    if fit is None:
        return verdict
    verdict.first, verdict.last = series.points[0][1], series.points[-1][1]
    verdict.slope_per_hour = fit[0] * 3600
    highest = max(value for _, value in series.points)
    verdict.flat = highest <= ceiling
    verdict.note = f"at most {highest:.1f}"
    return verdict


def speed_verdict(series: Series, warm_up_s: float, tolerance: float = SPEED_TOLERANCE) -> Verdict:
    """Informational (no goal of the studio's): the last window within ±``tolerance`` of the first
    window after the warm-up. ``series``: one point per window, at the window's start."""
    verdict = Verdict(series.metric, series.unit, f"last window within ±{tolerance:.0%} of the first after warm-up",
                      goal=False)
    points = series.after(warm_up_s)
    fit = least_squares(points)
    if fit is None or points[0][1] == 0:
        return verdict
    (_, first), (_, last) = points[0], points[-1]
    verdict.first, verdict.last, verdict.slope_per_hour = first, last, fit[0] * 3600
    verdict.flat = abs(last - first) <= tolerance * abs(first)
    verdict.note = f"{(last - first) / first:+.0%}"
    return verdict
