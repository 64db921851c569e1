"""The server's soak (bench/soak.py), run for half a minute against a real `dia-studio serve` with
its kill -9 and restart: the table, the PNG (decoded back), a verdict per figure, and its
accounting checked against the server's own database."""

import sqlite3

import pytest
from PySide6.QtGui import QImage

from bench import soak
from bench.soak_windows import METRICS, Window, build_windows, fit_slope, judge

VERDICTS = {"flat", "improving", "drifting", "unsteady", "rising", "too few windows"}


@pytest.mark.server  # two of them: the kill -9's restart
@pytest.mark.slow  # most of a minute
def test_a_short_soak_prints_its_table_draws_its_plot_and_counts_what_it_sent(tmp_path, capsys):
    args = soak.build_parser().parse_args(["--minutes", "0.6", "--window-s", "9", "--sample-s", "1",
                                           "--warm-up-windows", "0", "--out", str(tmp_path), "--keep-data"])
    report = soak.run(args)
    printed = capsys.readouterr().out

    assert "tasks/min" in printed and "RSS MB" in printed and "verdicts" in printed and "goals:" in printed
    assert "kill -9 of the server" in printed and "load average" in printed
    # The kill -9 in the middle of the third window; the restart takes a few seconds.
    assert [w["role"] for w in report["windows"]][:3] == ["", "", "kill"] and len(report["windows"]) == 4
    assert [w["life"] for w in report["windows"]] == [0, 0, 0, int(report["windows"][3]["role"] != "kill")]
    for window in report["windows"]:
        assert window["rss_mb"] > 100 and window["threads"] >= 3 and window["open_files"] >= 3
        # The server said what its warm voices hold (over /v1/engine), in every life.
        assert window["warm_voices_mb"] is not None
        assert window["rss_less_warm_mb"] == pytest.approx(window["rss_mb"] - window["warm_voices_mb"])

    image = QImage(str(tmp_path / "soak.png"))
    assert not image.isNull() and image.width() >= 1000 and image.height() >= 1000
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}) > 5

    assert {v["verdict"] for v in report["verdicts"]} <= VERDICTS
    assert {goal["goal"] for goal in report["goals"]} >= {"throughput within ±10 %", "memory growth under 50 MB",
                                                          "nothing lost", "threads flat", "open files flat"}

    audit = report["audit"]
    database = sqlite3.connect(tmp_path / "data" / "tasks.sqlite3")
    stored = {row[0] for row in database.execute("SELECT task_uuid FROM tasks")}
    accepted = sum(kind["accepted"] for kind in report["sent"].values())
    assert len(stored) == audit["accepted"] >= accepted > 0
    assert audit["finished"] + len(audit["failed"]) == audit["accepted"] and not audit["lost"]
    delivered = dict(database.execute("SELECT kind, COUNT(*) FROM deliveries WHERE status = 'done' GROUP BY kind"))
    assert audit["webhooks_once"] == audit["webhooks"] == delivered.get("webhook", 0)
    assert audit["uploads_once"] == audit["uploads"] == delivered.get("upload", 0)
    assert audit["seen_before_kill"] > 0 and audit["kept_across_kill"] == audit["seen_before_kill"]
    done = {kind: counts["ok"] for kind, counts in report["sent"].items()}
    assert sum(report["sent"][kind]["actions"] for kind in report["sent"]) == report["actions"]
    assert sum(w["tasks"] for w in report["windows"]) <= sum(done.values())


def _window(index: int, life: int, rss_mb: float) -> Window:
    return Window(index, index * 60.0, (index + 1) * 60.0, life, "", rss_mb=rss_mb)


def test_a_restart_does_not_hide_growth_within_each_life():
    # Memory grows 10 MB a minute in both lives; the restart drops it back.
    windows = [_window(i, 0, 500 + 10 * i) for i in range(4)] + [_window(i, 1, 480 + 10 * (i - 4)) for i in range(4, 8)]
    slope, error = fit_slope([(w.middle_min, w.life, w.rss_mb) for w in windows])
    assert slope == pytest.approx(10.0) and error == pytest.approx(0.0, abs=1e-9)
    memory = next(metric for metric in METRICS if metric.key == "rss_mb")
    verdict = judge(windows, memory)
    assert verdict.verdict == "drifting" and verdict.change == pytest.approx(70.0) and not verdict.passed
    flat = judge([_window(i, i // 4, 500 + (i % 2)) for i in range(8)], memory)
    assert flat.verdict == "flat" and flat.passed
    shrinking = judge([_window(i, 0, 500 - 30 * i) for i in range(4)], memory)
    assert shrinking.verdict == "improving" and shrinking.passed


def test_memory_is_judged_less_what_the_warm_voices_hold():
    # Memory grows 20 MB a minute, all of it warm voice states (bounded by their setting): no leak.
    windows = [Window(i, i * 60.0, (i + 1) * 60.0, 0, "", rss_mb=500 + 20 * i, warm_voices_mb=20.0 * i)
               for i in range(5)]
    by_key = {metric.key: metric for metric in METRICS}
    assert judge(windows, by_key["rss_less_warm_mb"]).verdict == "flat"
    assert judge(windows, by_key["rss_mb"]).verdict == "drifting"  # shown, not a goal
    assert by_key["rss_less_warm_mb"].goal == "memory growth under 50 MB" and by_key["rss_mb"].goal is None


def test_throughput_falling_beyond_its_tolerance_drifts_and_rising_improves():
    throughput = next(metric for metric in METRICS if metric.key == "tasks_per_min")

    def windows(per_minute):
        return [Window(i, i * 60.0, (i + 1) * 60.0, 0, "", tasks=tasks) for i, tasks in enumerate(per_minute)]

    falling = judge(windows([30, 28, 26, 24]), throughput)
    assert falling.verdict == "drifting" and falling.change == pytest.approx(-6 / 27) and not falling.passed
    assert judge(windows([24, 26, 28, 30]), throughput).verdict == "improving"
    assert judge(windows([27, 28, 27, 28]), throughput).verdict == "flat"


def test_windows_after_a_kill_take_their_life_and_warm_up_again():
    windows = build_windows(600.0, 60.0, [], [], [(300.0, 310.0)], warm_up=1)
    assert [w.role for w in windows] == ["warm-up", "", "", "", "", "kill", "warm-up", "", "", ""]
    assert [w.life for w in windows] == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
