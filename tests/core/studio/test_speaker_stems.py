"""The dialogue's export with stems: a file per speaker beside the mix, named for the speaker, as
long as the mix, that speaker's lines in place and silence elsewhere, adding up to the mix; with
subtitles, each stem's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.audio.errors import InvalidExportSettings
from core.audio.formats import ExportSettings
from core.audio.tags import ExportMetadata, read_tags
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.studio.exporting import ExportChoice, export_dialogue, planned_paths
from core.studio.speaker_stems import NAME_CHARS, stem_path

RATE = 24000


@pytest.mark.parametrize("name, file", [
    ("Ann", "episode.S1-Ann.wav"),
    ("Dr. Who / the 2nd", "episode.S1-Dr_Who_the_2nd.wav"),
    ("Zoë-Jane_B", "episode.S1-Zoë-Jane_B.wav"),
    ("...", "episode.S1.wav"),
    (None, "episode.S1.wav"),
])
def test_a_stem_is_named_after_the_file_with_the_speaker_s_tag_and_safe_name(name, file):
    assert stem_path(Path("out/episode.wav"), Speaker.S1, name) == Path("out") / file


def test_a_long_name_is_cut_and_two_speakers_of_one_name_stay_apart():
    long = stem_path(Path("a.v2.mp3"), Speaker.S2, "x" * 100)
    assert long.name == f"a.v2.S2-{'x' * NAME_CHARS}.mp3"
    assert stem_path(Path("a.ogg"), Speaker.S1, "Sam") != stem_path(Path("a.ogg"), Speaker.S2, "Sam")


def noise(seconds: float, seed: int) -> np.ndarray:
    return (0.2 * np.random.default_rng(seed).standard_normal(round(seconds * RATE))).astype(np.float32)


def two_takes() -> Dialogue:
    """Lines 1 (Ann) and 2 (Theo) from one take, line 3 (Ann) from another."""
    dialogue = Dialogue()
    dialogue.edit_speaker(Speaker.S1, name="Ann")
    dialogue.edit_speaker(Speaker.S2, name="Theo")
    first = dialogue.add_line(Speaker.S1, "Hello there friend.")
    second = dialogue.add_line(Speaker.S2, "Hi.")
    third = dialogue.add_line(Speaker.S1, "Bye now.")
    dialogue.add_takes([Take(GenerationParams(seed=1), AudioClip.from_samples(noise(2.0, 1), RATE), (first, second),
                             words=[TimedWord("Hello", 0.0, 0.3), TimedWord("there", 0.3, 0.6),
                                    TimedWord("friend.", 0.6, 1.2), TimedWord("Hi.", 1.3, 2.0)],
                             line_times={first.id: (0.0, 1.3), second.id: (1.3, 2.0)})])
    dialogue.add_takes([Take(GenerationParams(seed=2), AudioClip.from_samples(noise(1.0, 2), RATE), (third,),
                             words=[TimedWord("Bye", 0.1, 0.4), TimedWord("now.", 0.4, 1.0)],
                             line_times={third.id: (0.0, 1.0)})])
    return dialogue


def test_the_whole_dialogue_s_stems_add_up_to_its_file_and_each_holds_only_its_speaker(tmp_path):
    dialogue = two_takes()
    choice = ExportChoice(ExportSettings.create("WAV"), tmp_path / "talk.wav", False, True, None, stems=True)
    written = export_dialogue(dialogue, choice, "Talk")
    assert [p.name for p in written] == ["talk.wav", "talk.S1-Ann.wav", "talk.S2-Theo.wav",
                                         "talk.srt", "talk.S1-Ann.srt", "talk.S2-Theo.srt"]
    assert sorted(planned_paths(dialogue, choice)) == sorted(written)  # asked about before replacing any

    mix, ann, theo = (soundfile.read(path, dtype="int16")[0] for path in written[:3])
    assert len(mix) == len(ann) == len(theo) == 3 * RATE
    assert np.array_equal(ann.astype(np.int32) + theo, mix)
    theo_line = slice(round(1.3 * RATE), 2 * RATE)  # line 2, between lines 1 and 3
    assert not ann[theo_line].any() and np.array_equal(theo[theo_line], mix[theo_line])
    assert not np.delete(theo, np.arange(3 * RATE)[theo_line]).any()
    assert np.abs(mix[theo_line]).max() > 1000  # not silence that would add up anyway

    assert ExportMetadata.from_tags(read_tags(written[2])).speakers == ("Theo",)
    assert ExportMetadata.from_tags(read_tags(written[1])).title == "Talk (Ann)"
    theirs = written[5].read_text(encoding="utf-8")
    assert theirs == "1\n00:00:01,300 --> 00:00:02,000\nTheo: Hi.\n"  # on the file's clock, only Theo's line
    assert "Theo" not in written[4].read_text(encoding="utf-8")
    assert written[4].read_text(encoding="utf-8").count("Ann:") == 2


def test_the_selected_lines_stems_are_those_of_the_speakers_heard_in_them(tmp_path):
    dialogue = two_takes()
    first, _, third = dialogue.lines
    choice = ExportChoice(ExportSettings.create("FLAC"), tmp_path / "ann.flac", False, False, None,
                          (first.id, third.id), stems=True)
    written = export_dialogue(dialogue, choice, "Talk")
    assert [p.name for p in written] == ["ann.flac", "ann.S1-Ann.flac"]
    mix, stem = (soundfile.read(path, dtype="int16")[0] for path in written)
    assert np.array_equal(mix, stem)  # one speaker: the whole file is theirs


def test_stems_without_a_choice_for_them_are_not_written(tmp_path):
    written = export_dialogue(two_takes(), ExportChoice(ExportSettings.create("WAV"), tmp_path / "talk.wav", False,
                                                        False, None), "Talk")
    assert written == [tmp_path / "talk.wav"] and list(tmp_path.iterdir()) == written


def test_stems_with_one_file_per_line_are_refused_with_the_reason():
    with pytest.raises(InvalidExportSettings, match="not with one file per line"):
        ExportChoice(ExportSettings.create("WAV"), Path("out"), True, False, None, stems=True)
