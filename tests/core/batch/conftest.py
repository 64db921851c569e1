"""The folder of a batch's manifest, with a voice, its word list and a script file beside it."""

import json
import shutil
from pathlib import Path

import pytest

VOICES = Path(__file__).parents[2] / "fixtures" / "voices"


@pytest.fixture
def here(tmp_path) -> Path:
    """A manifest's folder with a voice, its word list and a script file."""
    shutil.copy(VOICES / "speaker1_24k_mono.wav", tmp_path / "s1.wav")
    (tmp_path / "s1.words.json").write_text(json.dumps([["Hello", 0.3, 0.7], ["there.", 0.8, 1.2]]))
    (tmp_path / "scene.txt").write_text("[S1] From a file.", encoding="utf-8")
    return tmp_path
