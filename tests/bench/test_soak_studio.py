"""The studio soak, briefly: the real window offscreen with the tiny model in the studio's process,
half a minute of cycles, then its table, its plot, a verdict per metric, and an accounting that
counts what it did (the files it wrote say so too)."""

import json
import os
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from bench import soak_studio
from bench.drift_plot import HEADER_H, PANEL_H, PANEL_W
from bench.studio_session import EXPORT_FORMATS, decoded_seconds
from core.project.opening import open_project

# The studio's memory is judged less the warm voice states the model keeps there (bounded by their
# setting, judged against it).
GOAL_METRICS = {"studio memory less warm voices", "warm voice states", "studio threads", "studio open files"}


@pytest.mark.slow  # about a minute: the model loads, then the cycles run for half a minute
def test_a_short_soak_counts_what_it_did_and_judges_each_metric(qapp, tmp_path):
    cores = os.sched_getaffinity(0)
    status = soak_studio.main(["--minutes", "0.5", "--window-s", "10", "--engine", "in-process", "--cores", "1",
                               "--out", str(tmp_path)])
    assert os.sched_getaffinity(0) == cores  # given back

    report = json.loads((tmp_path / "report.json").read_text())
    assert status == (0 if report["goals_met"] else 1)
    (engine,) = report["engines"]
    counted = engine["accounting"]
    assert counted["problems"] == [] and counted["nothing_lost"]
    cycles = counted["cycles"]
    assert cycles >= 1 and engine["duration_s"] >= 30
    # Every act was counted once: by kind, in the windows, in the list of actions.
    kinds = counted["actions_by_kind"]
    assert counted["actions"] == len(engine["actions"]) == sum(kinds.values())
    assert sum(window["actions"] for window in engine["windows"]) == counted["actions"]
    assert len(engine["windows"]) == len(range(0, round(engine["duration_s"] * 1000), 10_000))
    for kind in ("open project", "generate", "regenerate", "play dialogue", "speak as I type", "keep preview",
                 "autosave", "export", "save"):
        assert kinds[kind] == cycles, kind
    assert kinds["load model"] == 1 and kinds["undo"] == kinds["redo"] >= cycles
    assert counted["autosaves_checked"] == counted["exports_checked"] == counted["saves_checked"] == cycles
    # What it says it made is on disk: the last cycle's saved project holds its takes, the exports decode.
    last = engine["cycles"][-1]
    assert len(open_project(Path(last["saved_to"])).takes) == last["takes_in_document"] >= last["takes_made"] >= 2
    assert counted["takes_made"] == sum(cycle["takes_made"] for cycle in engine["cycles"])
    exports = {path.name: path for path in (tmp_path / "work" / "in-process" / "exports").glob("dialogue-*.[!s]*")}
    assert set(exports) == {f"dialogue-{n % 2}.{EXPORT_FORMATS[n % 4].lower()}" for n in range(cycles)}
    assert all(decoded_seconds(path) > 1 for path in exports.values())
    # Once a quiet moment: the first after the model loaded, then one after each cycle.
    assert len(engine["samples"]["studio"]) == cycles + 1 and engine["samples"]["model process"] == []
    warm = engine["warm_voices_mb"]
    assert len(warm) == cycles + 1 and warm[-1][1] > 0 and engine["warm_voices_bound_mb"] == 512
    # The studio's own objects (thousands), the soak's records left out: never less than none.
    objects = [count for _, count in engine["objects"]["python objects"]]
    assert len(objects) == cycles + 1 and all(0 < count < 1000 for count in objects)

    verdicts = {verdict["metric"]: verdict for verdict in engine["verdicts"]}
    assert {metric for metric, verdict in verdicts.items() if verdict["goal"]} == GOAL_METRICS
    assert {"actions per minute", "p95 generate", "p95 speak as I type", "python objects",
            "studio memory"} <= set(verdicts)
    for verdict in verdicts.values():
        assert verdict["verdict"] in ("flat", "drifting", "too short to tell")
    assert engine["goals_met"] == all(verdicts[metric]["flat"] is not False for metric in GOAL_METRICS)

    table = (tmp_path / "table.txt").read_text()
    assert "in-process engine: " in table and f"{cycles} cycles" in table and "nothing lost: yes" in table
    for metric in GOAL_METRICS:
        row = next(line for line in table.splitlines() if line.startswith(metric))
        assert verdicts[metric]["verdict"] in row
    # A panel per metric (five of the studio's, Python objects, widgets), actions per minute, latencies.
    image = QImage(str(tmp_path / "soak-studio.png"))
    assert not image.isNull() and (image.width(), image.height()) == (2 * PANEL_W, HEADER_H + 5 * PANEL_H)
