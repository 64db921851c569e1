"""A speaker's voice: from a file or a recording to a ``VoiceReference`` with timed words, and
from a reference to the voice prompt the model continues from (encoded on an engine).

The words come from a word list beside the file (``voice.words.json``: ``[[word, start_s, end_s],
…]``, timed against the file) when there is one, else from the transcriber (Whisper). The clip is
stored as ``load_voice_clip`` keeps it (24 kHz, silence trimmed), so its words are timed against
that trimmed clip. Trimming it further keeps the words heard in the part kept; speech recognition
runs again only when the person asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from core.audio.capture import Recording
from core.audio.errors import AudioTooShort, SilentAudio, UnusableAudio
from core.audio.io import (MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS, SILENCE_DBFS, AudioSource, VoiceClip,
                           load_voice_clip)
from core.audio.processing import peak_dbfs, resample, rms_dbfs
from core.dia2.prefix import InvalidVoicePrompt, VoicePrompt
from core.dia2.transcript_alignment import TimedWord, load_words_json
from core.dia2.voices import words_of_transcript, words_within_clip
from core.document.clips import AudioClip
from core.document.speakers import VoiceReference
from core.audio.stored_audio import as_stored

if TYPE_CHECKING:
    from core.engine.engine import Engine

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
    give_the_words = (f"Type what is said in the clip and press Apply correction to use this voice, or put "
                      f"its words in {beside.name} beside the file ([word, start_s, end_s] items, seconds "
                      "from the start of the file) and load it again.")
    return _voice(path, words, transcriber, give_the_words)


def voice_from_recording(recording: Recording, transcriber: Transcriber | None) -> tuple[VoiceReference, list[str]]:
    return _voice((recording.samples, recording.sample_rate), None, transcriber, TYPE_THE_WORDS)


def _voice(source: AudioSource, words: list[TimedWord] | None, transcriber: Transcriber | None,
           give_the_words: str) -> tuple[VoiceReference, list[str]]:
    """``give_the_words`` tells the person how to give the words when recognition finds none."""
    clip = load_voice_clip(source)
    notices = list(clip.notices)
    if words is not None:
        words = words_within_clip(words, clip)
    else:
        words, more_notices = _recognised_words(clip.samples, clip.sample_rate, transcriber, give_the_words)
        notices += more_notices
    # As the project will keep it, so the window generates with the voice a saved project gives back.
    audio = AudioClip.from_samples(as_stored(clip.samples, clip.sample_rate), clip.sample_rate)
    return VoiceReference(audio, words, _text(words)), notices


def _recognised_words(samples: np.ndarray, sample_rate: int, transcriber: Transcriber | None,
                      give_the_words: str) -> tuple[list[TimedWord], list[str]]:
    """Without words (no recogniser, or it failed) the voice is kept and the person gives them."""
    from core.dia2.transcribe import TranscriptionError  # loads Whisper's code: seconds, so only here

    if transcriber is None:
        return [], [give_the_words]
    try:
        return transcriber.transcribe(samples, sample_rate), []
    except TranscriptionError as error:
        return [], [f"{error} {give_the_words}"]


def _text(words: Sequence[TimedWord]) -> str:
    return " ".join(word.text for word in words)


def transcribed_voice(voice: VoiceReference, transcriber: Transcriber) -> tuple[VoiceReference, list[str]]:
    """The same clip with the words speech recognition hears in it now (e.g. after a trim). When
    recognition fails its error goes up, so the voice keeps the words it had."""
    words = transcriber.transcribe(voice.audio.samples(), voice.audio.sample_rate)
    return VoiceReference(voice.audio, words, _text(words)), []


def trimmed_voice(voice: VoiceReference, start_s: float, end_s: float) -> tuple[VoiceReference, list[str]]:
    """The part of the clip from ``start_s`` to ``end_s``, keeping the words heard in it (timed
    from its new start); nothing is transcribed again. Refused, with the reason, when the part is
    shorter or longer than a voice reference may be, or silent."""
    rate = voice.audio.sample_rate
    first = max(0, round(start_s * rate))
    last = min(voice.audio.frame_count, round(end_s * rate))
    length_s = max(0, last - first) / rate
    if length_s < MIN_REFERENCE_SECONDS:
        raise AudioTooShort(f"The part to keep lasts {length_s:.2f} s; a voice needs at least "
                            f"{MIN_REFERENCE_SECONDS:g} s of speech.")
    if length_s > MAX_REFERENCE_SECONDS:
        raise UnusableAudio(f"The part to keep lasts {length_s:.1f} s; a voice uses at most "
                            f"{MAX_REFERENCE_SECONDS:g} s (more only fills the model's context).")
    samples = voice.audio.samples()[first:last]
    loudest = peak_dbfs(samples)
    if loudest < SILENCE_DBFS:
        raise SilentAudio(f"The part to keep is silent (its loudest moment is at {loudest:.0f} dBFS); "
                          "keep a part in which the speaker talks.")
    part = VoiceClip(samples, rate, length_s, loudest, rms_dbfs(samples), start_s=first / rate)
    notices = []
    try:
        words = words_within_clip(voice.words, part) if voice.words else []
    except InvalidVoicePrompt:
        words = []
        notices.append("No recognised word is in the part kept: type what is said and press Apply "
                       "correction, or press Transcribe again.")
    return VoiceReference(AudioClip.from_samples(samples, rate), words, _text(words)), notices


def corrected_voice(voice: VoiceReference, text: str) -> VoiceReference:
    """The same clip with the person's transcript: on the recognised timings when there are
    some, else spread over the clip by word length (rougher, but it lets the voice be used)."""
    words = words_of_transcript(text, voice.words, voice.audio.duration_s)
    return VoiceReference(voice.audio, words, " ".join(text.split()))


def voice_prompts(engine: Engine, voices: Sequence[VoiceReference]) -> tuple[VoicePrompt, ...]:
    """Encode the voices (speaker 1's first) on the engine; model work, so off the GUI thread."""
    prompts = []
    for voice in voices:
        # A private copy: stored clips are read-only, and torch wants to own what it wraps.
        samples = np.array(resample(voice.audio.samples(), voice.audio.sample_rate, engine.sample_rate))
        prompts.append(VoicePrompt(engine.encode_voice(samples), list(voice.words)))
    return tuple(prompts)
