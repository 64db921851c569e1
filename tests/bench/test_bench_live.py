"""The live-take benchmark on the tiny checkpoint: every row it reports, with and without the skip."""

import json

from bench import bench_live


def test_model_tokens_are_a_models_deltas_of_the_text():
    tokens = bench_live.model_tokens("[S1] Have you heard downstairs?")
    assert "".join(tokens) == "[S1] Have you heard downstairs?"
    assert tokens[:4] == ["[S1]", " Hav", "e", " you"] and max(len(token) for token in tokens) == 4


def test_the_benchmark_times_the_first_audio_and_word_for_each_feed_and_skip(tmp_path):
    report = bench_live.main(["--model", "tiny", "--feeds", "whole,100", "--voices", "none", "--runs", "1",
                              "--stop-after-first-word", "--threads", "1", "--json", str(tmp_path / "live.json")])
    assert json.loads((tmp_path / "live.json").read_text()) == report
    rows = [(row["feed"], row["skip"]) for row in report["rows"]]
    assert rows == [("whole", "on"), ("whole", "off"), ("100", "on"), ("100", "off")]
    for row in report["rows"]:
        assert 0 < row["first_audio_s"] <= row["first_word_s"]
        assert not row["runs"][0]["complete"]  # cancelled once its first word was heard
