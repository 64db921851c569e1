"""The threads' benchmark measures each way of waiting, idle and beside a busy core, each in a
process of its own, and leaves no spinning process behind."""

import subprocess

from bench import bench_thread_waits


def test_each_wait_is_timed_idle_and_beside_a_busy_core_and_the_spinner_ends():
    report = bench_thread_waits.main(["--model", "tiny", "--threads", "1", "--frames", "1"])
    assert set(report) == {"idle", "one core busy"}
    for rows in report.values():
        assert set(rows) == {"spinning", "passively"}
        assert all(set(row) == {1} and row[1] > 0 for row in rows.values())
    spinning = subprocess.run(["pgrep", "-f", "while True: pass"], capture_output=True, text=True)
    assert spinning.stdout.strip() == ""


def test_a_measure_runs_with_the_wait_asked_for(monkeypatch):
    seen = {}

    def run(command, env, **kwargs):
        seen.update(env)
        return subprocess.CompletedProcess(command, 0, stdout='SPEED {"1": {"bfloat16": 5.0}}')

    monkeypatch.setenv("GOMP_SPINCOUNT", "7")  # one of the person's own: not passed on
    monkeypatch.setattr(bench_thread_waits.subprocess, "run", run)
    assert bench_thread_waits.ms_per_frame("tiny", "bfloat16", "1", 1, {"OMP_WAIT_POLICY": "PASSIVE"}) == {1: 5.0}
    assert seen["OMP_WAIT_POLICY"] == "PASSIVE" and "GOMP_SPINCOUNT" not in seen
