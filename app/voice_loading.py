"""A speaker's voice: from a file or a recording to a ``VoiceReference`` with timed words, and
from a reference to the voice prompt the runtime continues from.

The words come from a word list beside the file (``voice.words.json``: ``[[word, start_s, end_s],
…]``, timed against the file) when there is one, else from the transcriber (Whisper). The clip is
stored as ``load_voice_clip`` keeps it (24 kHz, silence trimmed), so its words are timed against
that trimmed clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from core.audio.capture import Recording
from core.audio.io import AudioSource, load_voice_clip
from core.audio.processing import resample
from core.dia2.prefix import InvalidVoicePrompt, VoicePrompt
from core.dia2.transcript_alignment import TimedWord, apply_corrected_text, load_words_json
from core.dia2.voices import words_within_clip
from core.dialogue import AudioClip, VoiceReference

WORDS_SUFFIX = ".words.json"
TYPE_THE_WORDS = "Type what is said in the clip and press Apply correction to use this voice."


class Transcriber(Protocol):
    """What a voice needs from speech recognition (``WhisperTranscriber`` is one)."""

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> list[TimedWord]: ...


def word_list_beside(path: Path) -> Path:
    return path.with_name(path.stem + WORDS_SUFFIX)


def voice_from_file(path: Path, transcriber: Transcriber | None) -> tuple[VoiceReference, list[str]]:
    """The voice in an audio file and notices for the person (e.g. that it was shortened)."""
    beside = word_list_beside(path)
    words = load_words_json(beside) if beside.is_file() else None
    return _voice(path, words, transcriber)


def voice_from_recording(recording: Recording, transcriber: Transcriber | None) -> tuple[VoiceReference, list[str]]:
    return _voice((recording.samples, recording.sample_rate), None, transcriber)


def _voice(source: AudioSource, words: list[TimedWord] | None,
           transcriber: Transcriber | None) -> tuple[VoiceReference, list[str]]:
    """Without words (no recogniser, or it failed) the voice is kept and the person types them."""
    from core.dia2.transcribe import TranscriptionError  # loads Whisper's code: seconds, so only here

    clip = load_voice_clip(source)
    notices = list(clip.notices)
    if words is not None:
        words = words_within_clip(words, clip)
    elif transcriber is None:
        words = []
        notices.append(TYPE_THE_WORDS)
    else:
        try:
            words = transcriber.transcribe(clip.samples, clip.sample_rate)
        except TranscriptionError as error:
            words = []
            notices.append(f"{error} {TYPE_THE_WORDS}")
    audio = AudioClip.from_samples(clip.samples, clip.sample_rate)
    reference = VoiceReference(audio, words, " ".join(w.text for w in words))
    return reference, notices


def corrected_voice(voice: VoiceReference, text: str) -> VoiceReference:
    """The same clip with the person's transcript: on the recognised timings when there are
    some, else spread over the clip by word length (rougher, but it lets the voice be used)."""
    if voice.words:
        words = apply_corrected_text(list(voice.words), text)
    else:
        words = _spread(text.split(), voice.audio.duration_s)
    return VoiceReference(voice.audio, words, " ".join(text.split()))


def _spread(tokens: list[str], duration_s: float) -> list[TimedWord]:
    if not tokens:
        raise InvalidVoicePrompt("Type the words spoken in the voice clip.")
    total = sum(len(token) + 1 for token in tokens)  # +1: the gap after each word
    words, start = [], 0.0
    for token in tokens:
        length = duration_s * (len(token) + 1) / total
        words.append(TimedWord(token, start, start + length * len(token) / (len(token) + 1)))
        start += length
    return words


def voice_prompts(runtime, voices: Sequence[VoiceReference]) -> tuple[VoicePrompt, ...]:
    """Encode the voices (speaker 1's first) for the runtime; model work, so off the GUI thread."""
    prompts = []
    for voice in voices:
        # A private copy: stored clips are read-only, and torch wants to own what it wraps.
        samples = np.array(resample(voice.audio.samples(), voice.audio.sample_rate, runtime.sample_rate))
        prompts.append(VoicePrompt(runtime.encode_voice(samples), list(voice.words)))
    return tuple(prompts)
