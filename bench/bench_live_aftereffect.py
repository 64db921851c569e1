"""What one live take with a voice leaves behind on a server: its tasks per minute under a load of
concurrent clients, before and after the take, beside a control server that gets no take.

    python bench/bench_live_aftereffect.py [--model FOLDER] [--threads N] [--clients 16] [--window 20]
                                           [--rounds 2] [--whisper-model NAME|FILE] [--json FILE]

Two servers on the same model (the tiny parity checkpoint by default): A, the control, and B,
which gets one /v1/live take with a voice (a voice without words: Whisper hears it, the codec
encodes it) between the two phases. In each phase the servers are loaded in turn, A B A B ..., by
``--clients`` threads sending sync audioInference tasks for ``--window`` seconds; a figure is the
tasks finished inside the window per minute, the mean over the rounds. Also per server and phase:
its threads and CPU seconds per task. A B after/before ratio well below A's is the take's
aftereffect (issue 23.6: the voice was prepared on a pooled thread, which kept the OpenMP workers
Whisper and the codec started; with more OpenMP threads than cores libgomp stops letting idle
workers spin, and every small parallel region of a frame waited for sleeping ones: 81 tasks a
minute before the take, 25 after, on a server whose runner had several threads). The runner must
have 2 threads or more to show it: ``--threads`` defaults to what serve uses (every core of a small
machine). Without ``--whisper-model`` Whisper is a tiny scripted stand-in (tests/scripted_whisper.py),
whose word timing runs the same numba code as a real model's. Prints the machine first.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_runtime import machine  # noqa: E402
from core.dia2.device import generation_threads  # noqa: E402
from tests.core.dia2.golden import CHECKPOINT  # noqa: E402
from tests.service.live_client import LiveClient  # noqa: E402
from tests.service.server_process import ServerProcess  # noqa: E402

SCRIPT = "[S1] Are you coming to the rehearsal tonight? [S2] Only if you bring the good coffee."
VOICE = ROOT / "tests" / "fixtures" / "voices" / "speaker1_24k_mono.wav"


def _task(seed: int) -> list[dict]:
    return [{"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": SCRIPT},
             "seed": seed, "outputFormat": "WAV"}]


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def load(server: ServerProcess, clients: int, window_s: float) -> dict:
    """``clients`` threads sending tasks one after another for ``window_s``; the tasks finished in it."""
    stop_at = time.monotonic() + window_s
    finished = []

    def client(index: int) -> None:
        sent = 0
        while time.monotonic() < stop_at:
            status, answer = server.post(_task(1000 * index + sent))
            sent += 1
            assert status == 200, answer
            if time.monotonic() <= stop_at:
                finished.append(1)

    cpu_before = _cpu_s(server.process.pid)
    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # the tasks queued at the end finish too: their CPU is counted with them
    tasks = len(finished) + clients  # about one more each, sent before the window closed
    return {"per_minute": len(finished) * 60 / window_s, "threads": _threads(server.process.pid),
            "cpu_s_per_task": (_cpu_s(server.process.pid) - cpu_before) / tasks}


def live_take_with_a_voice(server: ServerProcess) -> dict:
    voice = base64.b64encode(VOICE.read_bytes()).decode()
    with LiveClient(server.base) as client:
        ready = client.start(seed=9, inputs={"audios": [voice]})
        assert ready["type"] == "ready", ready
        client.text("[S1] Hello again, this is a live take with a voice.")
        client.send("end")
        done = client.hear().done
    assert done is not None and done["reason"] == "end", done
    return done


def phase(servers: dict[str, ServerProcess], args: argparse.Namespace, name: str) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {label: [] for label in servers}
    for round_ in range(args.rounds):
        for label, server in servers.items():
            run = load(server, args.clients, args.window)
            runs[label].append(run)
            print(f"  {name:<6} round {round_ + 1}, {label}: {run['per_minute']:6.1f} tasks/min, {run['threads']} "
                  f"threads, {run['cpu_s_per_task']:.2f} CPU s/task (load average {os.getloadavg()[0]:.1f})",
                  flush=True)
    return runs


def _mean(runs: list[dict], key: str) -> float:
    return sum(run[key] for run in runs) / len(runs)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(CHECKPOINT))
    parser.add_argument("--threads", type=int, default=generation_threads(),
                        help="the servers' --threads (default: serve's own default on this machine)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--window", type=float, default=20.0, help="seconds each load lasts")
    parser.add_argument("--rounds", type=int, default=2, help="loads per server and phase")
    parser.add_argument("--whisper-model", help="a Whisper name or .pt (default: a scripted stand-in)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    report = {"machine": f"{machine()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}",
              "model": args.model, "threads": args.threads, "clients": args.clients, "window_s": args.window,
              "rounds": args.rounds}
    print(f"machine: {report['machine']}")
    print(f"model: {args.model}; serve --threads {args.threads}; {args.clients} clients; {args.window:g} s "
          f"windows; {args.rounds} round(s) per server and phase; A: control, B: one live take with a voice")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        whisper = args.whisper_model
        if whisper is None:
            from tests.scripted_whisper import scripted_whisper_checkpoint

            whisper = str(scripted_whisper_checkpoint(["Hello", "there"], folder / "whisper.pt"))
        servers: dict[str, ServerProcess] = {}
        try:
            for label in ("A", "B"):
                (folder / label).mkdir()
                servers[label] = ServerProcess(folder / label / "data", "--threads", str(args.threads),
                                               "--whisper-model", whisper, model=args.model)
            for server in servers.values():
                server.wait_until_ready(timeout=1800)
                server.post(_task(1))  # warm-up
            before = phase(servers, args, "before")
            report["live_take"] = live_take_with_a_voice(servers["B"])
            print(f"  B: one live take with a voice ({report['live_take']['audioS']} s of audio)", flush=True)
            after = phase(servers, args, "after")
        finally:
            for server in servers.values():
                server.stop()
    report["phases"] = {"before": before, "after": after}
    print(f"\n  {'tasks per minute':<22} {'A (control)':>12} {'B (live take)':>14} {'B / A':>7}")
    for name, runs in report["phases"].items():
        a, b = _mean(runs["A"], "per_minute"), _mean(runs["B"], "per_minute")
        print(f"  {name:<22} {a:12.1f} {b:14.1f} {b / a:7.2f}")
    ratios = {label: _mean(after[label], "per_minute") / _mean(before[label], "per_minute") for label in servers}
    print(f"  {'after / before':<22} {ratios['A']:12.2f} {ratios['B']:14.2f} {ratios['B'] / ratios['A']:7.2f}")
    for key, title, digits in (("threads", "threads", 0), ("cpu_s_per_task", "CPU s per task", 2)):
        cells = [f"{_mean(before[label], key):.{digits}f} -> {_mean(after[label], key):.{digits}f}"
                 for label in servers]
        print(f"  {title:<22} {cells[0]:>12} {cells[1]:>14}")
    report["after_over_before"] = ratios
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
