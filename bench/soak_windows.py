"""The soak cut into windows of time, each window's figures, and a verdict per figure: flat or
drifting, with its slope.

A window's figures: tasks finished a minute, latency percentiles per kind, errors by code, and
the server's resident memory, threads, open files and sockets (medians of its samples), what its
warm voice states hold (they grow by design up to their bound, so memory is judged less them),
processor seconds per result, database and data-folder size, and the machine's load.

The verdict reads the windows after warm-up: the first ``warm_up`` windows of each life of the
server (its start, its restart after the kill -9) are left out, and so is the window of the
kill itself. A least-squares line through the rest, with one slope and an intercept per life
(a restart starts memory afresh; drift is what grows within a life), gives the change over the
run: slope × the minutes from the first window judged to the last. Within its tolerance the
figure is flat; beyond it, improving when it moved the good way (throughput up, latency, memory
or processor time down: not a drift, and no goal fails for it), else drifting when the slope is
clear of the noise (more than twice its standard error), otherwise unsteady (too noisy to tell:
run longer, or with longer windows).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from bench.soak_clients import TASK_KINDS
from bench.soak_ledger import EXPECTED_CODES, Outcome
from bench.drift import ProcessFigures, percentile

MIN_LATENCIES = 5  # a kind's percentiles are judged only with this many latencies in every window


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the soak began
    life: int
    process: ProcessFigures
    database_mb: float
    data_mb: float
    load: float  # the machine's 1-minute load average
    warm_voices_mb: float | None = None  # what the server says its warm voice states hold


@dataclass
class Window:
    index: int
    start_s: float
    end_s: float
    life: int
    role: str  # "" (judged), "warm-up", "kill" or "short" (the last, cut short)
    tasks: int = 0
    results: int = 0
    latency: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # kind → (p50, p95, count)
    p95_s: float | None = None  # every task kind together
    errors: Counter = field(default_factory=Counter)
    rss_mb: float | None = None
    threads: float | None = None
    open_files: float | None = None
    sockets: float | None = None
    cpu_s_per_result: float | None = None
    database_mb: float | None = None
    data_mb: float | None = None
    load: float | None = None
    warm_voices_mb: float | None = None

    @property
    def rss_less_warm_mb(self) -> float | None:
        """Memory less the warm voice states: those grow by design, up to their bound."""
        if self.rss_mb is None or self.warm_voices_mb is None:
            return None
        return self.rss_mb - self.warm_voices_mb

    @property
    def minutes(self) -> float:
        return (self.end_s - self.start_s) / 60

    @property
    def middle_min(self) -> float:
        return (self.start_s + self.end_s) / 120

    @property
    def tasks_per_min(self) -> float:
        return self.tasks / self.minutes

    @property
    def unexpected_errors(self) -> int:
        return sum(count for code, count in self.errors.items() if code not in EXPECTED_CODES)

    def value(self, metric: str) -> float | None:
        if metric.startswith("p95:"):
            kind = metric[4:]
            return self.latency[kind][1] if kind in self.latency else None
        return getattr(self, metric)


def build_windows(duration_s: float, window_s: float, actions: list[Outcome], samples: list[Sample],
                  outages: list[tuple[float, float]], warm_up: int) -> list[Window]:
    starts = [0.0]
    while starts[-1] + window_s < duration_s - 1e-9:
        starts.append(starts[-1] + window_s)
    windows = []
    for index, start in enumerate(starts):
        end = min(start + window_s, duration_s)
        restarts = [back for _, back in outages if back <= start]
        life = len(restarts)
        since_start = sum(1 for other in starts[:index] if other >= (restarts[-1] if restarts else 0.0))
        if any(down < end and back > start for down, back in outages):
            role = "kill"
        elif since_start < warm_up:
            role = "warm-up"
        elif end - start < window_s / 2:
            role = "short"
        else:
            role = ""
        window = Window(index, start, end, life, role)
        _fill(window, [a for a in actions if start <= a.ended < end],
              [s for s in samples if start <= s.at < end])
        windows.append(window)
    return windows


def _fill(window: Window, actions: list[Outcome], samples: list[Sample]) -> None:
    finished = [a for a in actions if a.ok and a.kind in TASK_KINDS]
    window.tasks = len(finished)
    window.results = sum(a.results for a in actions)
    by_kind: dict[str, list[float]] = {}
    for action in actions:
        if action.ok:
            by_kind.setdefault(action.kind, []).append(action.latency_s)
        window.errors.update(action.codes)
    window.latency = {kind: (percentile(times, 0.5), percentile(times, 0.95), len(times))
                      for kind, times in sorted(by_kind.items())}
    task_times = [a.latency_s for a in finished]
    window.p95_s = percentile(task_times, 0.95) if task_times else None
    own = [s for s in samples if s.life == window.life] or samples
    if own:
        window.rss_mb = statistics.median(s.process.rss_mb for s in own)
        window.threads = statistics.median(s.process.threads for s in own)
        window.open_files = statistics.median(s.process.open_files for s in own)
        window.sockets = statistics.median(s.process.sockets for s in own)
        window.database_mb = own[-1].database_mb
        window.data_mb = own[-1].data_mb
        window.load = statistics.mean(s.load for s in own)
        warm = [s.warm_voices_mb for s in own if s.warm_voices_mb is not None]
        window.warm_voices_mb = statistics.median(warm) if warm else None
        cpu_s = own[-1].process.cpu_s - own[0].process.cpu_s
        window.cpu_s_per_result = cpu_s / window.results if window.results and len(own) > 1 else None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    tolerance: float
    relative: bool  # tolerance as a fraction of the mean, else in the figure's unit
    goal: str | None  # the goal it checks; None: shown, not judged against a goal
    worse: int = 0  # the way it gets worse: +1 rising, -1 falling, 0 either (a count that should stay put)


METRICS = (
    Metric("tasks_per_min", "tasks a minute", "tasks/min", 0.10, True, "throughput within ±10 %", worse=-1),
    Metric("p95_s", "p95 latency, all tasks", "s", 0.10, True, "p95 latency within ±10 %", worse=+1),
    Metric("rss_less_warm_mb", "resident memory less warm voices", "MB", 50.0, False, "memory growth under 50 MB",
           worse=+1),
    Metric("rss_mb", "resident memory", "MB", 50.0, False, None, worse=+1),
    Metric("warm_voices_mb", "warm voice states", "MB", 0.0, False, None),
    Metric("threads", "threads", "", 2.0, False, "threads flat"),
    Metric("open_files", "open files", "", 4.0, False, "open files flat"),
    Metric("sockets", "sockets", "", 4.0, False, None),
    Metric("cpu_s_per_result", "server CPU per result", "s", 0.10, True, None, worse=+1),
    Metric("database_mb", "SQLite", "MB", 0.0, False, None),
    Metric("data_mb", "data folder", "MB", 0.0, False, None),
)


def latency_metrics(windows: list[Window]) -> tuple[Metric, ...]:
    kinds = sorted({kind for window in windows for kind in window.latency})
    return tuple(Metric(f"p95:{kind}", f"p95 latency, {kind}", "s", 0.10, True, None, worse=+1) for kind in kinds)


@dataclass(frozen=True)
class Verdict:
    metric: Metric
    first: float | None  # the first and last judged windows' values
    last: float | None
    slope_per_min: float | None
    change: float | None  # slope × span, in the unit (or a fraction, for a relative metric)
    verdict: str  # flat, improving, drifting, unsteady, rising (a size, no tolerance), too few windows

    @property
    def passed(self) -> bool:
        return self.verdict in ("flat", "improving")


def fit_slope(points: list[tuple[float, int, float]]) -> tuple[float, float] | None:
    """Least squares through (minute, life, value) with one slope and an intercept per life:
    (slope per minute, its standard error); None without two points in some life."""
    by_life: dict[int, list[tuple[float, float]]] = {}
    for minute, life, value in points:
        by_life.setdefault(life, []).append((minute, value))
    centred = []
    for pairs in by_life.values():
        mean_t = statistics.mean(t for t, _ in pairs)
        mean_v = statistics.mean(v for _, v in pairs)
        centred += [(t - mean_t, v - mean_v) for t, v in pairs]
    spread = sum(t * t for t, _ in centred)
    if spread == 0:
        return None
    slope = sum(t * v for t, v in centred) / spread
    freedom = len(centred) - len(by_life) - 1
    residual = sum((v - slope * t) ** 2 for t, v in centred)
    error = math.sqrt(residual / freedom / spread) if freedom > 0 else math.inf
    return slope, error


def judge(windows: list[Window], metric: Metric) -> Verdict:
    judged = [w for w in windows if not w.role and w.value(metric.key) is not None]
    if metric.key.startswith("p95:") and any(w.latency[metric.key[4:]][2] < MIN_LATENCIES for w in judged):
        judged = []  # a percentile of a handful of latencies is noise
    points = [(w.middle_min, w.life, w.value(metric.key)) for w in judged]
    fitted = fit_slope(points) if len(points) >= 3 else None
    if fitted is None:
        first = points[0][2] if points else None
        return Verdict(metric, first, points[-1][2] if points else None, None, None, "too few windows")
    slope, error = fitted
    change = slope * (points[-1][0] - points[0][0])
    if metric.relative:
        change /= statistics.mean(v for _, _, v in points) or math.inf
    if metric.tolerance == 0:
        verdict = "rising" if change > 0 else "flat"
    elif abs(change) <= metric.tolerance:
        verdict = "flat"
    elif metric.worse * change < 0:
        verdict = "improving"
    else:
        verdict = "drifting" if abs(slope) > 2 * error else "unsteady"
    return Verdict(metric, points[0][2], points[-1][2], slope, change, verdict)
