"""A voice read from a file or a recording holds its clip as a saved project gives it back, so the
window generates with the voice the command line finds in the project."""

from pathlib import Path

import numpy as np

from core.dia2.transcript_alignment import TimedWord
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.project.opening import open_project
from core.project.saving import save_project
from core.studio.voice_loading import trimmed_voice, voice_from_file

VOICE = Path(__file__).parents[2] / "fixtures" / "voices" / "speaker2_44k_stereo.wav"


class EvenWords:
    def transcribe(self, audio, sample_rate):
        step = len(audio) / sample_rate / 4
        return [TimedWord(word, i * step, (i + 0.8) * step) for i, word in enumerate(["one", "two", "three", "four"])]


def test_a_voice_and_a_part_of_it_hold_their_clips_as_the_saved_project_gives_them_back(tmp_path):
    voice, _ = voice_from_file(VOICE, EvenWords())
    part, _ = trimmed_voice(voice, 0.2, 1.6)
    for kept in (voice, part):
        dialogue = Dialogue()
        dialogue.set_voice(Speaker.S1, kept)
        save_project(dialogue, tmp_path / "Talk.diastudio")
        reopened = open_project(tmp_path / "Talk.diastudio").speakers[Speaker.S1].voice
        np.testing.assert_array_equal(reopened.audio.samples(), kept.audio.samples())
