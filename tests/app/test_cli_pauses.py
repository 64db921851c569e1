"""`dia-studio render`, greedy, of a script whose pause is taken while look-ahead tokens are
queued: the codes it saves are those of the run checked step by step against the README's rules
(tests/core/dia2/test_pause_fidelity.py)."""

import numpy as np

from app.main import main
from core.audio.tags import ExportMetadata, read_tags
from tests.core.dia2.golden import CHECKPOINT
from tests.core.dia2.test_pause_fidelity import SCRIPTS, run_greedy


def test_a_greedy_render_of_a_script_with_pauses_saves_the_checked_codes(tmp_path, tiny_runtime):
    script = SCRIPTS[0]
    codes = tmp_path / "codes.npy"
    assert main(["render", "--model", str(CHECKPOINT), "--device", "cpu", "--dtype", "float32", "--threads", "1",
                 "--script", script, "--temperature", "0", "--audio-temperature", "0", "--cfg-scale", "3",
                 "--seed", "5", "--out", str(tmp_path / "pauses.wav"), "--codes-out", str(codes)]) == 0
    loop, _ = run_greedy(tiny_runtime, script, 3.0, voiced=False)
    np.testing.assert_array_equal(np.load(codes), loop.codes(0, loop.ready_frames()).numpy())
    assert ExportMetadata.from_tags(read_tags(tmp_path / "pauses.wav")).speakers == ("S1",)  # the one heard
