"""The voice flags (``--s1``/``--s2`` with ``-text`` or ``-words``) of render and speak: declared,
read and checked before the model loads, then made into voice prompts."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from app.command_line import CommandLineError, say
from core.audio.io import VoiceClip, load_voice_clip
from core.dia2.transcript_alignment import TimedWord, load_words_json


def add_voice_arguments(parser: argparse.ArgumentParser) -> None:
    for speaker in ("s1", "s2"):
        tag = speaker.upper()
        parser.add_argument(f"--{speaker}", type=Path, metavar="AUDIO", help=f"voice reference for [{tag}]")
        parser.add_argument(f"--{speaker}-text", metavar="TEXT",
                            help=f"what is said in --{speaker}: replaces Whisper's words, keeps its timings")
        parser.add_argument(f"--{speaker}-words", type=Path, metavar="JSON",
                            help=f"words of --{speaker} as a JSON list of [word, start_s, end_s]; "
                                 "no Whisper is run")
    parser.add_argument("--whisper-model", default=None,
                        help="Whisper model name (tiny … large-v3, turbo) or a local .pt file, "
                             "used to transcribe voice references (default: large-v3 on a GPU, small on a "
                             "processor)")


@dataclass(frozen=True)
class VoiceInput:
    """A voice reference as the flags give it, read and checked before the model loads."""

    speaker: str  # "s1" or "s2", as in the flags
    clip: VoiceClip
    words: list[TimedWord] | None  # from --sN-words, timed against the file
    text: str | None  # from --sN-text


def read_voices(args: argparse.Namespace) -> list[VoiceInput]:
    """Check the voice flags and read the voice files and word lists (unreadable, silent, too
    short, words outside the clip): a bad voice costs a second, not the model's loading."""
    from core.dia2.voices import words_within_clip  # torch: seconds to import, so not for --help

    if args.s2 and not args.s1:
        raise CommandLineError("--s2 needs --s1: the first voice reference is always speaker [S1]")
    voices = []
    for speaker in ("s1", "s2"):
        audio, text, word_file = (getattr(args, speaker), getattr(args, f"{speaker}_text"),
                                  getattr(args, f"{speaker}_words"))
        if (text or word_file) and not audio:
            raise CommandLineError(f"--{speaker}-text and --{speaker}-words need --{speaker} AUDIO")
        if text and word_file:
            raise CommandLineError(f"give --{speaker}-text or --{speaker}-words, not both")
        if not audio:
            continue
        if not audio.is_file():
            raise CommandLineError(f"the voice reference {audio} does not exist")
        clip = load_voice_clip(audio)
        words = load_words_json(word_file) if word_file else None
        if words is not None:
            words_within_clip(words, clip)  # only to refuse them now; prepare_voice places them
        voices.append(VoiceInput(speaker, clip, words, text))
    return voices


def prepare_voices(engine, voices: list[VoiceInput]) -> tuple:
    """The voice prompts of ``voices``, made on ``engine``: encoded by its codec, and the words of a
    voice given neither words nor text heard by its Whisper (loaded the first time one needs it)."""
    prompts = []
    for voice in voices:
        prepared = _prepared_voice(engine, voice)
        for notice in prepared.notices:
            say(f"note: {notice}")
        heard = " ".join(word.text for word in prepared.words)
        say(f"[{voice.speaker.upper()}] voice: {prepared.clip.duration_s:.1f} s, words: {heard}")
        prompts.append(prepared.prompt)
    return tuple(prompts)


def _prepared_voice(engine, voice: VoiceInput):
    """The voice prompt; with neither words nor text a failed Whisper ends the run, saying how
    to go without it."""
    from core.dia2.transcribe import TranscriptionError
    from core.dia2.voices import prepare_voice

    try:
        return prepare_voice(engine, voice.clip, words=voice.words, corrected_text=voice.text, transcriber=engine)
    except TranscriptionError as error:
        flag = f"--{voice.speaker}"
        raise CommandLineError(f"{error} Without Whisper, give the words of {flag} with {flag}-words "
                               f'FILE.json, or {flag}-text "what is said" (timed by word length).') from None
