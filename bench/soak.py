"""An hour of real use without drift: a soak of `dia-studio serve`.

    python bench/soak.py [--minutes 20] [--window-s 120] [--clients 4] [--mix KIND=N,...]
                         [--kill-at 0.5 | --no-kill] [--warm-up-windows 1] [--max-actions N]
                         [--out DIR] [--keep-data] [--seed N]

A server on loopback with the tiny parity checkpoint (a scripted Whisper hears its voices) is
driven by ``--clients`` clients sending, one action after another, the mix an integrator sends
(``bench/soak_clients.py``: sync and async tasks of 1–4 results in every output type and format,
tasks with known and new voices, webhooks and uploads to loopback receivers that fail and then
recover, live takes finished, cancelled, abandoned and left silent, WebSocket sessions dropped and
resumed, getResponse polls of older tasks). ``--mix`` gives the proportions: each round deals
every kind as many times as its number, in a shuffled order. Once, in the middle (``--kill-at``, a
fraction of the run), the server is killed with -9 and started again on the same data.

Every window (``--window-s``) it records tasks finished a minute, latency percentiles per kind,
errors by code, and from /proc the server's resident memory, threads, open files and sockets,
its processor time per result, and the SQLite and data-folder size. At the end: a table, a plot
(soak.png), the figures (soak.json) in ``--out``, a verdict per figure (flat or drifting, with
the least-squares slope over the windows after warm-up; ``bench/soak_windows.py``), and the goals:

  throughput and p95 latency within ±10 % over the run, memory growth under 50 MB after warm-up,
  threads and open files flat, nothing lost (every accepted task finished or failed with a
  reason, every webhook and upload landed exactly once, every result given before the kill -9
  still served after it), and no errors but the expected ones.

The exit status is 1 when a goal is not met (or could not be judged: too few windows), else 0.
Bounded in time (``--minutes``, then a drain of at most ``--drain-s``) and in count
(``--max-actions``); everything listens on 127.0.0.1 only; the server is stopped at the end, and
on Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
from collections import Counter
import json
import os
import random
import signal
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.drift import percentile, read_process  # noqa: E402
from bench.drift_plot import Fit, Line, Panel, draw  # noqa: E402
from bench.host import processor_name  # noqa: E402
from bench.soak_audit import Audit, audit  # noqa: E402
from bench.soak_clients import KINDS, Client, VoiceSource  # noqa: E402
from bench.soak_ledger import EXPECTED_CODES, Ledger  # noqa: E402
from bench.soak_process import database_mb, folder_mb  # noqa: E402
from bench.soak_receivers import DeliveryReceiver  # noqa: E402
from bench.soak_server import SoakServer  # noqa: E402
from bench.soak_windows import METRICS, Sample, Verdict, Window, build_windows, judge, latency_metrics  # noqa: E402

DEFAULT_MIX = "sync=3,async=3,voice=2,webhook=2,upload=1,live=2,ws=2,poll=2"
WALL_CLOCK = ("tasks_per_min", "p95_s")  # the goals a busy neighbour on the machine moves too


def parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        name, _, count = part.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise argparse.ArgumentTypeError(f"--mix: {name!r} is not a kind; the kinds are {', '.join(KINDS)}")
        if not count.strip().isdigit():
            raise argparse.ArgumentTypeError(f"--mix: give {name}=N with N a whole number of 0 or more")
        mix[name] = int(count)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("--mix: give at least one kind a number above 0")
    return mix


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="how long the clients send (default 20)")
    parser.add_argument("--window-s", type=float, default=120.0, help="seconds a window (default 120)")
    parser.add_argument("--clients", type=int, default=4, help="clients sending at once (default 4)")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
                        help=f"each kind's share (default {DEFAULT_MIX})")
    parser.add_argument("--kill-at", type=float, default=0.5,
                        help="when the kill -9 comes, as a fraction of the run (default 0.5)")
    parser.add_argument("--no-kill", action="store_true", help="no kill -9")
    parser.add_argument("--warm-up-windows", type=int, default=1,
                        help="windows left out of the verdicts after each start of the server (default 1)")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between looks at /proc (default 5)")
    parser.add_argument("--live-idle-s", type=float, default=3.0,
                        help="the server's --live-idle-timeout: a silent live take ends this soon (default 3)")
    parser.add_argument("--max-actions", type=int, default=100_000, help="no more actions than this (default 100000)")
    parser.add_argument("--drain-s", type=float, default=300.0,
                        help="at most this long, after the run, for what was sent to finish (default 300)")
    parser.add_argument("--seed", type=int, default=29, help="the clients' random choices (default 29)")
    parser.add_argument("--out", type=Path, help="where the table, soak.png and soak.json go (default: a new "
                                                 "folder under the system's temporary folder)")
    parser.add_argument("--keep-data", action="store_true", help="keep the server's data folder and logs")
    return parser


class SoakClock:
    """Seconds since the soak began (0 until it does)."""

    def __init__(self) -> None:
        self.began: float | None = None

    def begin(self) -> None:
        self.began = time.monotonic()

    def __call__(self) -> float:
        return 0.0 if self.began is None else time.monotonic() - self.began


class Deck:
    """The kinds dealt to the clients: each round every kind as many times as its share, shuffled."""

    def __init__(self, mix: dict[str, int], rng: random.Random, limit: int):
        self._round = [kind for kind, count in mix.items() for _ in range(count)]
        self._rng = rng
        self._cards: list[str] = []
        self._lock = threading.Lock()
        self.dealt = 0
        self.limit = limit

    def draw(self) -> str | None:
        with self._lock:
            if self.dealt >= self.limit:
                return None
            if not self._cards:
                self._cards = self._round[:]
                self._rng.shuffle(self._cards)
            self.dealt += 1
            return self._cards.pop()


def machine() -> str:
    return f"{processor_name()}, {os.cpu_count()} cores"


def load_text() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def kill_moment(args: argparse.Namespace, duration_s: float) -> float | None:
    """The middle of the window holding ``--kill-at`` of the run, so the kill's window is one."""
    if args.no_kill:
        return None
    window = int(args.kill_at * duration_s // args.window_s)
    return min((window + 0.5) * args.window_s, duration_s * 0.95)


def run(args: argparse.Namespace) -> dict:
    out = args.out or Path(tempfile.mkdtemp(prefix="dia-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    duration_s = args.minutes * 60
    print(f"machine: {machine()}; {load_text()} at the start", flush=True)
    print(f"soak: {args.minutes:g} minutes, windows of {args.window_s:g} s, {args.clients} clients, mix "
          + ", ".join(f"{kind}={count}" for kind, count in args.mix.items()) + f"; output in {out}", flush=True)

    from tests.scripted_whisper import scripted_whisper_checkpoint

    whisper = scripted_whisper_checkpoint(["Hello", "there", "friend"], out / "whisper.pt")
    clock = SoakClock()
    receiver = DeliveryReceiver(clock)
    server = SoakServer(out, ("--allow-private-urls", "--whisper-model", str(whisper),
                              "--live-idle-timeout", str(args.live_idle_s)), clock)
    ledger = Ledger()
    samples: list[Sample] = []
    try:
        voices = VoiceSource(server)
        deck = Deck(args.mix, random.Random(args.seed), args.max_actions)
        clock.begin()
        kill_at = kill_moment(args, duration_s)
        stop = threading.Event()
        threads = [threading.Thread(target=_client_loop, name=f"soak-client-{index}", daemon=True,
                                    args=(Client(index, server, receiver, voices, ledger, clock, args.seed * 100 + index),
                                          deck, clock, duration_s, stop))
                   for index in range(args.clients)]
        watcher = threading.Thread(target=_watch, name="soak-watch", daemon=True,
                                   args=(server, ledger, samples, clock, duration_s, args, kill_at, stop))
        for thread in (watcher, *threads):
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        watcher.join()
        end_s = min(clock(), duration_s)
        print(f"the clients stopped after {clock() / 60:.1f} minutes and {len(ledger.actions)} actions; "
              f"waiting for what was sent to finish …", flush=True)
        checked = audit(server, ledger, receiver, server.outages[0][0] if server.outages else None, args.drain_s,
                        clock)
        report = _report(args, out, ledger, samples, server, checked, end_s)
    finally:
        server.stop()
        receiver.close()
        if not args.keep_data:
            shutil.rmtree(server.data_dir, ignore_errors=True)
    return report


def _client_loop(client: Client, deck: Deck, clock, duration_s: float, stop: threading.Event) -> None:
    while clock() < duration_s and not stop.is_set() and (kind := deck.draw()) is not None:
        client.act(kind)


def _watch(server: SoakServer, ledger: Ledger, samples: list[Sample], clock, duration_s: float,
           args: argparse.Namespace, kill_at: float | None, stop: threading.Event) -> None:
    """Looks at the server every ``--sample-s``, kills it once, and prints each window as it closes."""
    next_sample, printed = 0.0, 0
    while not stop.is_set() and clock() < duration_s:
        now = clock()
        if kill_at is not None and now >= kill_at and not server.outages:
            print(f"{now / 60:5.1f} min: kill -9 of the server (pid {server.pid}) …", flush=True)
            server.kill_and_restart()
            print(f"{clock() / 60:5.1f} min: the server answers again (pid {server.pid}, started in "
                  f"{server.startup_s[-1]:.1f} s)", flush=True)
        if now >= next_sample and server.up.is_set():
            try:
                figures = read_process(server.pid)
                samples.append(Sample(now, server.life, figures, database_mb(server.data_dir),
                                      folder_mb(server.data_dir), os.getloadavg()[0], server.warm_voices_mb()))
            except OSError:  # killed between the check and the look
                pass
            next_sample = now + args.sample_s
        closed = int(now // args.window_s)
        if closed > printed:
            windows = _windows(args, ledger, samples, server, closed * args.window_s)
            for window in windows[printed:closed]:
                print(_progress_line(window), flush=True)
            printed = closed
        time.sleep(0.2)


def _windows(args, ledger: Ledger, samples: list[Sample], server: SoakServer, end_s: float) -> list[Window]:
    outages = [(down, back if back is not None else end_s) for down, back in server.outages]
    return build_windows(end_s, args.window_s, list(ledger.actions), list(samples), outages, args.warm_up_windows)


def _progress_line(window: Window) -> str:
    def figure(value, pattern):
        return "-" if value is None else pattern.format(value)

    return (f"{window.end_s / 60:5.1f} min: window {window.index} {window.role or 'judged'}: "
            f"{window.tasks_per_min:.1f} tasks/min, p95 {figure(window.p95_s, '{:.2f} s')}, "
            f"RSS {figure(window.rss_mb, '{:.0f} MB')}, {figure(window.threads, '{:.0f}')} threads, "
            f"{figure(window.open_files, '{:.0f}')} files, errors {dict(window.errors) or 0}, "
            f"load {figure(window.load, '{:.2f}')}")


# ---- the report ------------------------------------------------------------------------------------
def _report(args, out: Path, ledger: Ledger, samples: list[Sample], server: SoakServer, checked: Audit,
            end_s: float) -> dict:
    windows = _windows(args, ledger, samples, server, end_s)
    verdicts = [judge(windows, metric) for metric in (*METRICS, *latency_metrics(windows))]
    errors = sum((window.errors for window in windows), start=Counter())
    unexpected = {code: count for code, count in errors.items() if code not in EXPECTED_CODES}
    neighbours = _load_note(windows, next(v for v in verdicts if v.metric.key == "cpu_s_per_result"))
    goals = [(metric.goal, verdict.passed, _verdict_text(verdict) + (neighbours if metric.key in WALL_CLOCK else ""))
             for verdict in verdicts for metric in (verdict.metric,) if metric.goal]
    goals.append(("nothing lost", checked.nothing_lost, _audit_text(checked)))
    goals.append(("no errors but the expected ones", not unexpected,
                  "none" if not unexpected else ", ".join(f"{code} ×{count}" for code, count in unexpected.items())))
    png = out / "soak.png"
    draw(_panels(windows, verdicts, [down for down, _ in server.outages]), png,
         f"dia-studio serve soak, {args.minutes:g} min, {args.clients} clients")
    table = "\n".join([_window_table(windows), "", _latency_table(windows), "", _action_table(ledger), "",
                       _verdict_table(verdicts)])
    lines = [table, "", "goals:"] + [f"  [{'pass' if passed else 'FAIL'}] {goal}: {text}" for goal, passed, text in goals]
    if ledger.notes:
        lines += ["", f"notes ({len(ledger.notes)}):"] + [f"  {note.strip()}" for note in ledger.notes[:20]]
    lines += ["", f"{load_text()} at the end; server started in "
              + ", ".join(f"{s:.1f} s" for s in server.startup_s) + f"; plot: {png}"]
    text = "\n".join(lines)
    print(text, flush=True)
    (out / "soak.txt").write_text(text + "\n")
    report = {"machine": machine(), "load_at_end": os.getloadavg(), "args": {**vars(args), "out": str(out)},
              "duration_s": end_s, "kills_min": [down / 60 for down, _ in server.outages],
              "startup_s": server.startup_s,
              "actions": len(ledger.actions), "sent": _sent_counts(ledger),
              "windows": [_window_dict(w) for w in windows],
              "verdicts": [{"figure": v.metric.label, "key": v.metric.key, "first": v.first, "last": v.last,
                            "slope_per_min": v.slope_per_min, "change": v.change, "verdict": v.verdict}
                           for v in verdicts],
              "goals": [{"goal": goal, "passed": passed, "detail": detail} for goal, passed, detail in goals],
              "audit": asdict(checked), "notes": ledger.notes, "png": str(png), "table": table,
              "passed": all(passed for _, passed, _ in goals)}
    (out / "soak.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def _load_note(windows: list[Window], cpu: Verdict) -> str:
    """What the wall-clock goals owe the machine: said when its load moved over the judged windows."""
    loads = [w.load for w in windows if not w.role and w.load is not None]
    if len(loads) < 2 or max(loads) - min(loads) < 0.5:
        return ""
    return (f"; the machine's load average went {loads[0]:.2f} → {loads[-1]:.2f} (from {min(loads):.2f} to "
            f"{max(loads):.2f}) meanwhile, and the server's CPU per result was {_verdict_text(cpu)}")


def _sent_counts(ledger: Ledger) -> dict:
    """By kind: actions done, tasks sent, tasks the server accepted."""
    counts = {}
    for action in ledger.actions:
        counts.setdefault(action.kind, {"actions": 0, "ok": 0, "sent": 0, "accepted": 0})
        counts[action.kind]["actions"] += 1
        counts[action.kind]["ok"] += action.ok
    for task in ledger.tasks.values():
        counts.setdefault(task.kind, {"actions": 0, "ok": 0, "sent": 0, "accepted": 0})
        counts[task.kind]["sent"] += 1
        counts[task.kind]["accepted"] += task.accepted
    return counts


def _window_dict(window: Window) -> dict:
    fields = {key: value for key, value in vars(window).items() if key != "errors"}
    return fields | {"errors": dict(window.errors), "tasks_per_min": window.tasks_per_min,
                     "rss_less_warm_mb": window.rss_less_warm_mb}


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _window_table(windows: list[Window]) -> str:
    head = (f"{'win':>3} {'minutes':>11} {'life':>4} {'role':>7} {'tasks/min':>9} {'p95 s':>6} {'RSS MB':>7} {'warm MB':>7} "
            f"{'threads':>7} {'files':>5} {'socks':>5} {'CPU s/res':>9} {'SQLite MB':>9} {'data MB':>8} "
            f"{'load':>5}  errors")
    rows = [head]
    for w in windows:
        rows.append(f"{w.index:>3} {w.start_s / 60:5.1f}–{w.end_s / 60:5.1f} {w.life:>4} {w.role or 'judged':>7} "
                    f"{w.tasks_per_min:>9.1f} {_number(w.p95_s, 2):>6} {_number(w.rss_mb, 0):>7} "
                    f"{_number(w.warm_voices_mb):>7} "
                    f"{_number(w.threads, 0):>7} {_number(w.open_files, 0):>5} {_number(w.sockets, 0):>5} "
                    f"{_number(w.cpu_s_per_result, 2):>9} {_number(w.database_mb, 2):>9} {_number(w.data_mb):>8} "
                    f"{_number(w.load, 2):>5}  "
                    + (", ".join(f"{code} {count}" for code, count in sorted(w.errors.items())) or "-"))
    return "\n".join(rows)


def _latency_table(windows: list[Window]) -> str:
    kinds = sorted({kind for w in windows for kind in w.latency})
    rows = ["latency per kind, seconds: p50/p95 (count)",
            f"{'win':>3} " + " ".join(f"{kind:>18}" for kind in kinds)]
    for w in windows:
        cells = [f"{w.latency[k][0]:.2f}/{w.latency[k][1]:.2f} ({w.latency[k][2]})" if k in w.latency else "-"
                 for k in kinds]
        rows.append(f"{w.index:>3} " + " ".join(f"{cell:>18}" for cell in cells))
    return "\n".join(rows)


def _action_table(ledger: Ledger) -> str:
    """Every action of the run (the drain's included) by kind and variant: how many, how many went
    well, their median time, the errors they met."""
    groups: dict[tuple[str, str], list] = {}
    for action in ledger.actions:
        groups.setdefault((action.kind, action.variant), []).append(action)
    rows = ["actions by kind and variant:", f"{'kind':<8} {'variant':<28} {'done':>5} {'ok':>5} {'p50 s':>6}  errors"]
    for (kind, variant), actions in sorted(groups.items()):
        codes = Counter(code for action in actions for code in action.codes)
        rows.append(f"{kind:<8} {variant:<28} {len(actions):>5} {sum(a.ok for a in actions):>5} "
                    f"{percentile([a.latency_s for a in actions], 0.5):>6.2f}  "
                    + (", ".join(f"{code} {count}" for code, count in sorted(codes.items())) or "-"))
    return "\n".join(rows)


def _verdict_text(verdict: Verdict) -> str:
    metric = verdict.metric
    if verdict.change is None:
        return verdict.verdict
    change = f"{verdict.change:+.1%}" if metric.relative else f"{verdict.change:+.2f} {metric.unit}".rstrip()
    unit = f" {metric.unit}" if metric.unit else ""
    return f"{verdict.verdict} ({change} over the run; slope {verdict.slope_per_min:+.3g}{unit} a minute)"


def _verdict_table(verdicts: list[Verdict]) -> str:
    rows = ["verdicts (windows after warm-up; slope by least squares, one intercept per life of the server):",
            f"{'figure':<28} {'first':>9} {'last':>9} {'slope/min':>11} {'change':>9} {'tolerance':>9}  verdict"]
    for v in verdicts:
        m = v.metric
        change = "-" if v.change is None else f"{v.change:+.1%}" if m.relative else f"{v.change:+.2f}"
        tolerance = "-" if not m.tolerance else f"±{m.tolerance:.0%}" if m.relative else f"{m.tolerance:g} {m.unit}"
        rows.append(f"{m.label:<28} {_number(v.first, 2):>9} {_number(v.last, 2):>9} "
                    f"{'-' if v.slope_per_min is None else f'{v.slope_per_min:+.4g}':>11} {change:>9} "
                    f"{tolerance:>9}  {v.verdict}{'' if m.goal else ' (shown, not a goal)'}")
    return "\n".join(rows)


def _audit_text(a: Audit) -> str:
    text = (f"{a.accepted} tasks accepted: {a.finished} finished, {len(a.failed)} failed with a reason, "
            f"{len(a.lost)} lost; {a.results_seen} results given: {a.results_kept} kept, {a.expired} expired "
            f"as asked, {len(a.results_lost)} lost or changed, {len(a.expiry_faults)} expiry faults; "
            f"{a.kept_across_kill} of {a.seen_before_kill} given before the kill -9 kept; "
            f"webhooks {a.webhooks_once} of {a.webhooks} once; uploads {a.uploads_once} of {a.uploads} once"
            + (f"; {a.expiring} results' ttl passing as it was checked (not judged)" if a.expiring else ""))
    faults = a.lost + a.results_lost + a.expiry_faults + a.webhook_faults + a.upload_faults
    return text + "".join(f"\n      {fault}" for fault in faults[:20])


def _panels(windows: list[Window], verdicts: list[Verdict], kills_s: list[float]) -> list[Panel]:
    """A panel per figure: the windows' values at their middles; the verdict's fit (one slope, an
    intercept per life of the server) on the first line; the windows it leaves out shaded."""
    by_key = {v.metric.key: v for v in verdicts}
    kinds = sorted({kind for w in windows for kind in w.latency})
    left_out = [(w.start_s, w.end_s) for w in windows if w.role]

    def panel(title: str, unit: str, lines: tuple[tuple[str, str], ...], verdict: Verdict | None = None) -> Panel:
        drawn = [Line(label, [(w.middle_min * 60, w.value(key)) for w in windows if w.value(key) is not None])
                 for label, key in lines]
        if verdict is not None and verdict.slope_per_min is not None:
            drawn[0].fits = _fits(windows, lines[0][1], verdict.slope_per_min)
        title += f" ({unit})" if unit else ""
        return Panel(title + (f" — {verdict.verdict}" if verdict else ""), "", drawn, left_out, kills_s)

    return [
        panel("tasks finished a minute", "", (("tasks", "tasks_per_min"),), by_key["tasks_per_min"]),
        panel("p95 latency, all tasks", "s", (("all", "p95_s"),), by_key["p95_s"]),
        panel("p95 latency per kind", "s", tuple((kind, f"p95:{kind}") for kind in kinds)),
        panel("resident memory", "MB", (("less warm voices", "rss_less_warm_mb"), ("RSS", "rss_mb")),
              by_key["rss_less_warm_mb"]),
        panel("warm voice states", "MB", (("warm voices", "warm_voices_mb"),)),
        panel("threads", "", (("threads", "threads"),), by_key["threads"]),
        panel("open files and sockets", "", (("files", "open_files"), ("sockets", "sockets")), by_key["open_files"]),
        panel("server CPU per result", "s", (("CPU", "cpu_s_per_result"),), by_key["cpu_s_per_result"]),
        panel("SQLite and data folder", "MB", (("data", "data_mb"), ("SQLite", "database_mb"))),
        panel("errors (unexpected) a window", "", (("unexpected", "unexpected_errors"),)),
        panel("machine load average", "", (("load", "load"),)),
    ]


def _fits(windows: list[Window], key: str, slope_per_min: float) -> list[Fit]:
    """The verdict's line through each life's judged windows, with the common slope."""
    fits = []
    for life in sorted({w.life for w in windows}):
        judged = [w for w in windows if w.life == life and not w.role and w.value(key) is not None]
        if len(judged) < 2:
            continue
        mean_s = sum(w.middle_min for w in judged) / len(judged) * 60
        mean_v = sum(w.value(key) for w in judged) / len(judged)
        slope_per_s = slope_per_min / 60
        fits.append(Fit(judged[0].middle_min * 60, judged[-1].middle_min * 60, slope_per_s,
                        mean_v - slope_per_s * mean_s))
    return fits


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM ends the soak as Ctrl+C does, through its cleanup: the server is stopped, not left running.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    return 0 if run(args)["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
