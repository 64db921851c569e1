"""A speaker's voice reference (a file or a clip) → the voice prompt the runtime continues from.

The words come, in order of preference, from an explicit timed word list (nothing to guess),
from Whisper's transcription corrected by the user's text (Whisper's timings, the user's
words; the text spread over the clip when there is no Whisper), or from Whisper alone.
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


def prepare_voice(codec, source: AudioSource | VoiceClip, *, words: Sequence[TimedWord] | None = None,
                  corrected_text: str | None = None, transcriber=None) -> PreparedVoice:
    """Read, check and encode one reference with ``codec`` (an engine, or the runtime: anything with
    ``sample_rate`` and ``encode_voice``). ``words`` are timed against the clip as given
    (before silence is trimmed); otherwise ``transcriber`` (a WhisperTranscriber) finds them.
    ``corrected_text`` replaces the recognised words, keeping their timings; without recognition
    (no ``transcriber``, or it failed) it is spread over the clip, as the window does."""
    clip = source if isinstance(source, VoiceClip) else load_voice_clip(source)
    notices = list(clip.notices)
    text = (corrected_text or "").strip()
    if words is not None:
        words = words_within_clip(words, clip)
    elif transcriber is not None:
        words = _recognised_words(clip, transcriber, text, notices)
    elif not text:
        raise InvalidVoicePrompt("A voice reference needs its words: give them with timings, type what "
                                 "is said, or give a Whisper model to transcribe it.")
    if text:
        words = words_of_transcript(text, words or [], clip.duration_s)
    samples = resample(clip.samples, clip.sample_rate, codec.sample_rate)
    codes = codec.encode_voice(samples)
    return PreparedVoice(VoicePrompt(codes, words), clip, words, notices)


def _recognised_words(clip: VoiceClip, transcriber, text: str, notices: list[str]) -> list[TimedWord]:
    """Whisper's words; with a ``text`` to time, a failed recognition only costs the timings."""
    from core.dia2.transcribe import TranscriptionError  # the caller has loaded Whisper's code already

    try:
        return transcriber.transcribe(clip.samples, clip.sample_rate)
    except TranscriptionError as error:
        if not text:
            raise
        notices.append(f"{error} The transcript given is spread over the clip by word length instead "
                       "(rougher timings than speech recognition's).")
        return []


def words_of_transcript(text: str, recognised: Sequence[TimedWord], duration_s: float) -> list[TimedWord]:
    """The words of a transcript the person gave for a clip of ``duration_s`` seconds: on the
    ``recognised`` timings when there are some (:func:`apply_corrected_text`), else spread over
    the clip by word length (rougher, but it lets a voice be used without speech recognition)."""
    if recognised:
        return apply_corrected_text(list(recognised), text)
    tokens = text.split()
    if not tokens:
        raise InvalidVoicePrompt("Type the words spoken in the voice clip.")
    total = sum(len(token) + 1 for token in tokens)  # +1: the gap after each word
    words, start = [], 0.0
    for token in tokens:
        length = duration_s * (len(token) + 1) / total
        words.append(TimedWord(token, start, start + length * len(token) / (len(token) + 1)))
        start += length
    return words


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
