"""The soak's judgement of drift: slopes, windows, percentiles, each metric's rule, /proc readings,
and the plot drawn with QPainter."""

import os
import threading

import pytest
from PySide6.QtGui import QImage

from bench.drift import (Action, Series, ceiling_verdict, count_verdict, least_squares, memory_verdict, objects_held_by,
                         percentile, sample_process, speed_verdict, windows_of)
from bench.drift_plot import HEADER_H, PANEL_H, PANEL_W, Fit, Line, Panel, draw, nice_step


def test_least_squares_finds_the_line_through_the_points():
    slope, intercept = least_squares([(0, 1.0), (1, 3.0), (2, 5.0)])
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(1.0)
    assert least_squares([(5, 1.0), (5, 2.0)]) is None


def test_percentiles_interpolate_between_neighbours():
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert percentile([], 0.95) is None


def test_windows_count_each_action_once_and_rate_it_per_minute():
    actions = [Action("generate", at, 2.0) for at in (10, 50, 130)] + [Action("undo", 170, 0.01)]
    windows = windows_of(actions, 180, 120)
    assert [(w.start_s, w.end_s, w.actions) for w in windows] == [(0, 120, 2), (120, 180, 2)]
    assert windows[1].actions_per_minute == pytest.approx(2.0)  # two in its one minute
    assert windows[1].latency == {"generate": {"count": 1, "p50": 2.0, "p95": 2.0},
                                  "undo": {"count": 1, "p50": 0.01, "p95": 0.01}}


def test_memory_drifts_when_its_growth_projected_over_an_hour_reaches_the_goal():
    slow = Series("studio memory", "MB", [(at, 500 + at / 3600 * 40) for at in range(0, 600, 30)])  # 40 MB/h
    fast = Series("studio memory", "MB", [(at, 500 + at / 3600 * 60) for at in range(0, 600, 30)])  # 60 MB/h
    assert memory_verdict(slow, 120).flat
    verdict = memory_verdict(fast, 120)
    assert not verdict.flat and verdict.slope_per_hour == pytest.approx(60) and verdict.word == "drifting"
    warm_up_only = Series("studio memory", "MB", [(0, 400.0), (60, 500.0), (200, 500.0), (300, 500.0)])
    assert memory_verdict(warm_up_only, 120).flat  # what the warm-up took is not drift
    assert memory_verdict(Series("m", "MB", [(0, 1.0)]), 120).word == "too short to tell"


def test_counts_drift_when_their_floor_rises_not_when_they_peak():
    peaks = Series("threads", "", [(at, 8 + (at % 90 == 0) * 3) for at in range(0, 600, 10)])
    assert count_verdict(peaks, 60, 120).flat
    leak = Series("threads", "", [(at, 8 + at // 100) for at in range(0, 600, 10)])
    verdict = count_verdict(leak, 60, 120)
    assert not verdict.flat and (verdict.first, verdict.last) == (8, 12)  # floors of 60–180 s and 470–590 s


def test_what_a_setting_bounds_may_grow_to_its_bound_and_no_further():
    filling = Series("warm voice states", "MB", [(at, min(at / 10, 64.0)) for at in range(0, 1200, 30)])
    verdict = ceiling_verdict(filling, 64)
    assert verdict.flat and verdict.goal and verdict.note == "at most 64.0"
    over = Series("warm voice states", "MB", [(0, 10.0), (60, 70.0), (120, 60.0)])
    assert not ceiling_verdict(over, 64).flat  # a moment above counts, the warm-up's too
    assert ceiling_verdict(Series("warm voice states", "MB", [(0, 1.0)]), 64).word == "too short to tell"


def test_speed_is_within_ten_percent_of_the_first_window_after_warm_up():
    assert speed_verdict(Series("actions per minute", "", [(0, 50.0), (120, 100.0), (240, 108.0)]), 120).flat
    verdict = speed_verdict(Series("actions per minute", "", [(0, 50.0), (120, 100.0), (240, 85.0)]), 120)
    assert not verdict.flat and verdict.note == "-15%" and not verdict.goal


def test_the_objects_records_hold_are_counted_once_each_and_untracked_ones_not_at_all():
    shared = {"kind": "generate", "problems": []}
    records = [[shared, shared], [1.5, "text"], shared]
    # the outer list, two inner lists, the one dict and its list; floats and strings are not tracked
    assert objects_held_by(records) == 5
    assert objects_held_by(records, records) == 5
    assert objects_held_by((1.5, "text"), 7) == 0
    # an instance refers to its class, and through it to its module: neither is a record
    assert objects_held_by([Action("generate", 1.0, 0.5)]) <= 3


def test_a_process_is_read_from_proc():
    before = sample_process(os.getpid(), 0.0)
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    with open(f"/proc/self/task/{thread.native_id}/comm", "w") as comm:
        comm.write("soak-test")
    with open(__file__):
        during = sample_process(os.getpid(), 1.0)
    release.set()
    thread.join()
    assert during.threads == before.threads + 1 and during.open_files == before.open_files + 1
    assert during.by_kind["file"] == before.by_kind.get("file", 0) + 1 and during.rss_mb > 10
    assert during.thread_names["soak-test"] == 1 and "soak-test" not in before.thread_names


def test_nice_steps_are_one_two_or_five_times_a_power_of_ten():
    assert [nice_step(span) for span in (1.0, 7.0, 30.0, 450.0)] == [0.5, 2, 10, 200]


def test_the_plot_is_a_png_with_a_panel_per_metric(qapp, tmp_path):
    panels = [Panel("studio memory", "MB", [Line("in-process", [(0, 500.0), (60, 510.0), (120, 505.0)],
                                                  [Fit(60, 120, 0.01, 500.0)])], shaded=[(0, 60)], marks_s=[90]),
              Panel("threads", "", [Line("own-process", [(0, 9.0), (120, 9.0)])]),
              Panel("empty", "", [])]
    draw(panels, tmp_path / "plot.png", "a soak")
    image = QImage(str(tmp_path / "plot.png"))
    assert not image.isNull() and (image.width(), image.height()) == (2 * PANEL_W, HEADER_H + 2 * PANEL_H)
    colours = {image.pixelColor(x, y).name() for x in range(PANEL_W) for y in range(HEADER_H, HEADER_H + PANEL_H, 2)}
    assert {"#1f77b4", "#eeeeee", "#d62728"} <= colours  # the first series' colour, the shade, the mark
