"""A take's files as render and the batch write them: with stems, one per speaker of the script,
split where the take's word timings put each line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.audio.formats import ExportSettings
from core.batch.outputs import UntimedTake, export_take, script_speakers, stem_paths
from core.dia2.events import TakeResult
from core.document.speakers import Speaker
from core.params import GenerationParams

RATE = 24000
WAV = ExportSettings.create("WAV")


def take(words: list[tuple[str, float]], seconds: float = 1.0) -> TakeResult:
    audio = (0.2 * np.random.default_rng(5).standard_normal(round(seconds * RATE))).astype(np.float32)
    return TakeResult(0, 7, GenerationParams(seed=7), audio, RATE, None, words)


def int16(path: Path) -> np.ndarray:
    return soundfile.read(path, dtype="int16")[0]


def test_the_speakers_of_a_script_each_get_a_stem_named_by_their_tag():
    assert script_speakers("Hello. [S2] Hi. [S1] Bye.") == (Speaker.S1, Speaker.S2)  # words before a tag: [S1]'s
    assert script_speakers("[S2] Only me.") == (Speaker.S2,)
    assert stem_paths(Path("out/a_take2.ogg"), (Speaker.S1, Speaker.S2)) == [Path("out/a_take2.S1.ogg"),
                                                                            Path("out/a_take2.S2.ogg")]


def test_a_take_is_split_where_its_words_say_each_line_begins(tmp_path):
    made = take([("Hello", 0.0), ("there.", 0.2), ("Hi!", 0.55), ("Bye.", 0.8)])
    written = export_take("[S1] Hello there. [S2] Hi! [S1] Bye.", made, tmp_path / "t.wav", WAV, stems=True)
    assert written == [tmp_path / "t.wav", tmp_path / "t.S1.wav", tmp_path / "t.S2.wav"]
    mix, first, second = (int16(path) for path in written)
    assert np.array_equal(first.astype(np.int32) + second, mix)
    theirs = np.arange(round(0.55 * RATE), round(0.8 * RATE))
    assert np.array_equal(np.flatnonzero(second), theirs[mix[theirs] != 0])
    assert not first[theirs].any()


def test_a_speaker_the_take_leaves_out_gets_a_silent_stem(tmp_path):
    # the model spoke the first line only: the second line's speaker is not heard
    made = take([("Hello", 0.0), ("there.", 0.3)])
    written = export_take("[S1] Hello there. [S2] Hi!", made, tmp_path / "t.wav", WAV, stems=True)
    mix, first, second = (int16(path) for path in written)
    assert np.array_equal(first, mix) and not second.any()


def test_without_word_timings_one_speaker_s_stem_is_the_take_and_two_speakers_are_refused_theirs(tmp_path):
    written = export_take("[S2] Alone.", take([]), tmp_path / "one.wav", WAV, stems=True)
    assert [path.name for path in written] == ["one.wav", "one.S2.wav"]
    assert np.array_equal(int16(written[0]), int16(written[1]))
    with pytest.raises(UntimedTake, match=r"lines cannot be told apart: .*two\.wav is written, without stems"):
        export_take("[S1] Hi. [S2] Hello.", take([]), tmp_path / "two.wav", WAV, stems=True)
    assert (tmp_path / "two.wav").is_file() and not list(tmp_path.glob("two.S*"))  # the take is not lost
