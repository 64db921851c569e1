"""The runtime benchmark is prepared on a CPU before its one run on a GPU: its graph path runs
here as a dry run (steps recorded eagerly) on the tiny checkpoint, with the token comparison."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import bench_runtime

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_times_every_path_and_compares_their_tokens(tmp_path):
    report = bench_runtime.main(["--model", "tiny", "--paths", "eager,stage-graphs,frame-graphs", "--frames", "30",
                                 "--check-tokens", "25", "--json", str(tmp_path / "figures.json")])
    assert json.loads((tmp_path / "figures.json").read_text()) == report
    for path in ("eager", "stage-graphs", "frame-graphs"):
        figures = report["paths"][path]
        assert figures["frames"] >= 30 and figures["ms_per_frame"] > 0
        assert figures["first_chunk_s"] is not None and figures["peak_gib"] > 0
    assert report["differing_tokens"] == {"eager": 0, "stage-graphs": 0, "frame-graphs": 0}


def test_the_device_script_runs_end_to_end_as_a_dry_run(tmp_path):
    result = subprocess.run(["sh", "bench/device_check.sh", "--dry-run"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable}, timeout=600)
    assert result.returncode == 0, result.stderr
    files = {p.name for p in tmp_path.iterdir()}
    assert files == {"tiny-bfloat16.json", "tiny-bfloat16-profile.txt", "tiny-float32.json", "live.json", "log.txt"}
    assert len(files) <= 8  # what the device tool brings back
    timed = json.loads((tmp_path / "tiny-bfloat16.json").read_text())["paths"]
    assert set(timed) == {"eager", "stage-graphs", "frame-graphs"}
    assert not [path for path, figures in timed.items() if "error" in figures]
    assert all(figures["profile"]["frames"] == 3 for figures in timed.values())
    assert (json.loads((tmp_path / "tiny-float32.json").read_text())["differing_tokens"]
            == {"eager": 0, "stage-graphs": 0, "frame-graphs": 0})
    assert "frame-graphs" in (tmp_path / "tiny-bfloat16-profile.txt").read_text()
