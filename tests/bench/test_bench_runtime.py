"""The runtime benchmark is prepared on a CPU before its one run on a GPU: its graph path runs
here as a dry run (steps recorded eagerly) on the tiny checkpoint, with the token comparison."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import bench_runtime

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_times_both_paths_and_compares_their_tokens(tmp_path):
    report = bench_runtime.main(["--model", "tiny", "--paths", "eager,graphs", "--frames", "30",
                                 "--check-tokens", "25", "--json", str(tmp_path / "figures.json")])
    assert json.loads((tmp_path / "figures.json").read_text()) == report
    for path in ("eager", "graphs"):
        figures = report["paths"][path]
        assert figures["frames"] >= 30 and figures["ms_per_frame"] > 0
        assert figures["first_chunk_s"] is not None and figures["peak_gib"] > 0
    assert report["differing_tokens"] == {"eager": 0, "graphs": 0}


def test_the_device_script_runs_end_to_end_as_a_dry_run(tmp_path):
    result = subprocess.run(["sh", "bench/device_check.sh", "--dry-run"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable}, timeout=600)
    assert result.returncode == 0, result.stderr
    assert {"tiny-bfloat16.json", "tiny-float32.json", "log.txt"} <= {p.name for p in tmp_path.iterdir()}
    assert json.loads((tmp_path / "tiny-float32.json").read_text())["differing_tokens"]["graphs"] == 0
