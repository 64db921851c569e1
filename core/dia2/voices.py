"""A speaker's voice reference (a file or a clip) → the voice prompt the runtime continues from.

The words come, in order of preference, from an explicit timed word list (nothing to guess),
from Whisper's transcription corrected by the user's text (Whisper's timings, the user's
words), or from Whisper alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from core.audio.io import AudioSource, VoiceClip, load_voice_clip
from core.audio.processing import resample
from core.dia2.prefix import InvalidVoicePrompt, VoicePrompt
from core.dia2.transcript_alignment import TimedWord, apply_corrected_text, check_word_timings


@dataclass(frozen=True)
class PreparedVoice:
    prompt: VoicePrompt
    clip: VoiceClip
    words: list[TimedWord]
    notices: list[str] = field(default_factory=list)


def prepare_voice(runtime, source: AudioSource | VoiceClip, *, words: Sequence[TimedWord] | None = None,
                  corrected_text: str | None = None, transcriber=None) -> PreparedVoice:
    """Read, check and encode one reference. ``words`` are timed against the clip as given
    (before silence is trimmed); ``transcriber`` (a WhisperTranscriber) is needed when no
    words are given."""
    clip = source if isinstance(source, VoiceClip) else load_voice_clip(source)
    notices = list(clip.notices)
    if words is not None:
        words = words_within_clip(words, clip)
    elif transcriber is not None:
        words = transcriber.transcribe(clip.samples, clip.sample_rate)
    else:
        raise InvalidVoicePrompt("A voice reference needs its words: give a transcript with timings, "
                                 "or a Whisper model to transcribe it.")
    if corrected_text is not None and corrected_text.strip():
        words = apply_corrected_text(words, corrected_text)
    samples = resample(clip.samples, clip.sample_rate, runtime.sample_rate)
    codes = runtime.encode_voice(samples)
    return PreparedVoice(VoicePrompt(codes, words), clip, words, notices)


def words_within_clip(words: Sequence[TimedWord], clip: VoiceClip) -> list[TimedWord]:
    """Move timings given against the original file onto the trimmed clip; words that fall
    outside what was kept are dropped, and the ones cut by the trim are clipped to it.

    Raises :class:`InvalidWordTimings` for impossible timings and :class:`InvalidVoicePrompt`
    when no word is left."""
    words = list(words)
    check_word_timings(words)
    kept = []
    for word in words:
        start, end = word.start_s - clip.start_s, word.end_s - clip.start_s
        if end <= 0 or start >= clip.duration_s:
            continue
        kept.append(TimedWord(word.text, max(0.0, start), min(end, clip.duration_s)))
    if not kept:
        raise InvalidVoicePrompt("None of the given words falls inside the voice clip; "
                                 "their times must be seconds from the start of the file.")
    return kept
