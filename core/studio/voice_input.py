"""A voice reference as a face is given it (the command line's ``--s1`` with ``--s1-words`` or
``--s1-text``, a batch manifest's voice): its clip and what is said in it, read and checked before
any model loads, then made into a voice prompt once, however many generations use it.

The file may be a voice package (``.diavoice``, core/voice_package.py): its clip with its words,
which a word list or a text given with it replaces."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from core.audio.errors import UnusableAudio
from core.audio.io import VoiceClip, load_voice_clip
from core.dia2.transcript_alignment import TimedWord, load_words_json
from core.voice_package import PackagedVoice, is_voice_package, read_voice_package

if TYPE_CHECKING:
    from core.dia2.voices import PreparedVoice
    from core.engine.engine import Engine


class VoiceInput:
    """``words`` are timed against the file as given (before its silence is trimmed); ``text``
    replaces what Whisper hears, keeping its timings. With neither, the engine's Whisper hears it."""

    def __init__(self, path: Path, clip: VoiceClip, words: list[TimedWord] | None = None, text: str | None = None):
        self.path, self.clip, self.words, self.text = path, clip, words, text
        self._lock = threading.Lock()
        self._prepared: PreparedVoice | None = None

    @classmethod
    def read(cls, path: Path, words_file: Path | None = None, text: str | None = None) -> VoiceInput:
        """Read the clip and its word list, refusing now (not after the model's loading) audio that
        is unreadable, silent or too short, and words that are malformed or all outside the clip."""
        from core.dia2.voices import words_within_clip  # torch: seconds to import, so not for --help

        packaged = read_voice_package(path) if is_voice_package(path) else None
        clip = _clip_of(packaged, path) if packaged is not None else load_voice_clip(path)
        words = load_words_json(words_file) if words_file is not None else None
        if packaged is not None and words is None:
            # Its own words (a text given replaces them, keeping their timings); a voice saved
            # without words gives its transcript, as --s1-text would (Whisper only times it).
            words = list(packaged.words) or None
            if words is None and text is None:
                text = packaged.transcript or None
        if words is not None:
            words_within_clip(words, clip)  # only to refuse them now: preparing places them
        return cls(path, clip, words, text)

    def prepared(self, engine: Engine) -> PreparedVoice:
        """Encoded by the engine's codec (and heard by its Whisper, loaded the first time one needs
        it) on the first call; later calls, from any thread, share it: the codes are on the
        processor, so every engine with the same model can use them."""
        from core.dia2.voices import prepare_voice

        with self._lock:
            if self._prepared is None:
                self._prepared = prepare_voice(engine, self.clip, words=self.words, corrected_text=self.text,
                                               transcriber=engine)
            return self._prepared


def _clip_of(packaged: PackagedVoice, path: Path) -> VoiceClip:
    try:
        return load_voice_clip((packaged.samples, packaged.sample_rate))
    except UnusableAudio as error:  # it would name the clip "the recording"
        raise type(error)(f"The voice in “{path.name}” cannot serve: {error}") from None
