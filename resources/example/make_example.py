"""Rebuild the bundled example project: two synthetic voices (espeak-ng) and a short dialogue.

Each word of a voice is synthesised on its own and the words are joined with short gaps, so the
word timings are known exactly and the example needs no speech recognition. Run from the
repository root (needs ``espeak-ng`` on the PATH):

    python -m resources.example.make_example
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile

from core.audio.processing import resample
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.markup import pause_markup
from core.document.speakers import Speaker, SpeakerProfile
from core.project.saving import save_project
from core.studio.voice_loading import voice_from_file, word_list_beside

HERE = Path(__file__).resolve().parent
RATE = 24000
GAP_S = 0.07  # between words: enough to hear them apart, short enough to sound like a sentence
VOICES = {
    Speaker.S1: ("Maya", "#2f80ed", "en-us+f3", 150,
                 "Hi, I am Maya. I host this little show, and I love talking about sound and stories."),
    Speaker.S2: ("Theo", "#e2673a", "en-gb+m3", 165,
                 "Hello, Theo here. I ask the questions nobody else dares to ask, usually too loudly."),
}
LINES = [
    (Speaker.S1, "Welcome back to the studio! Today we are trying something new."),
    (Speaker.S2, "(laughs) New as in a robot reads our script?"),
    (Speaker.S1, "Close. A model speaks it, in our own voices."),
    (Speaker.S2, f"Then I had better sound good. {pause_markup(0.5)} Let's begin."),
]


def speak(word: str, voice: str, speed: int) -> np.ndarray:
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", word],
                         check=True, capture_output=True).stdout
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    # espeak pads each word with silence; keep the sound, so the word list fits it tightly
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return resample(samples[loud[0]:loud[-1] + 1], rate, RATE)


def make_voice(name: str, voice: str, speed: int, text: str) -> Path:
    pieces, words, clock = [], [], 0.3
    pieces.append(np.zeros(round(0.3 * RATE), np.float32))
    for word in text.split():
        audio = speak(word.strip(",."), voice, speed)
        words.append([word, round(clock, 3), round(clock + len(audio) / RATE, 3)])
        gap = np.zeros(round((GAP_S * (3 if word[-1] in ",." else 1)) * RATE), np.float32)
        pieces += [audio, gap]
        clock += (len(audio) + len(gap)) / RATE
    path = HERE / "voices" / f"{name.lower()}.flac"
    path.parent.mkdir(exist_ok=True)
    soundfile.write(path, 0.8 * np.concatenate(pieces), RATE, subtype="PCM_16")
    word_list_beside(path).write_text("[\n" + ",\n".join(f"  {json.dumps(w)}" for w in words) + "\n]\n")
    return path


def main() -> None:
    speakers = {}
    for speaker, (name, colour, voice, speed, text) in VOICES.items():
        reference, _ = voice_from_file(make_voice(name, voice, speed, text), transcriber=None)
        speakers[speaker] = SpeakerProfile(name, colour, reference)
    dialogue = Dialogue([DialogueLine(speaker, text) for speaker, text in LINES], speakers)
    project = HERE / "Example.diastudio"
    shutil.rmtree(project, ignore_errors=True)
    save_project(dialogue, project)
    print(f"wrote {project}")


if __name__ == "__main__":
    main()
