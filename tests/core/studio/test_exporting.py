"""Export details read by a person: a file's title and the subtitles' cues."""

from __future__ import annotations

import numpy as np
import soundfile

from core.audio.formats import ExportSettings
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.studio.exporting import ExportChoice, export_dialogue, segments, srt_cues

NINE = "one two three four five six seven eight nine."


def _spoken(text: str) -> tuple[Dialogue, Take]:
    dialogue = Dialogue()
    line = dialogue.add_line(Speaker.S1, text)
    words = [word for word in text.replace('<break time="1s"/>', " ").split()]
    timed = [TimedWord(word, 0.5 * index, 0.5 * (index + 1)) for index, word in enumerate(words)]
    duration = 0.5 * len(words)
    take = Take(GenerationParams(seed=1),
                AudioClip.from_samples(np.full(round(duration * 24000), 0.1, np.float32), 24000),
                (line,), words=timed, line_times={line.id: (0.0, duration)})
    dialogue.add_takes([take])
    return dialogue, take


def test_a_line_of_nine_words_is_two_even_cues_not_eight_and_a_widow():
    dialogue, _ = _spoken(NINE)
    cues = srt_cues(dialogue, segments(dialogue))
    assert [text for _, _, text in cues] == ["Speaker 1: one two three four five", "six seven eight nine."]
    assert cues[1][1] - cues[1][0] == 2.0  # four words' time on screen, not one word's half second


def test_a_lines_own_file_is_titled_with_its_words_not_its_pause_markup(tmp_path):
    dialogue, _ = _spoken('Wait for it <break time="1s"/> now.')
    choice = ExportChoice(ExportSettings.create("FLAC"), tmp_path, True, False, None)
    (path,) = export_dialogue(dialogue, choice, "Talk")
    assert soundfile.SoundFile(path).copy_metadata()["title"] == "Wait for it now."
