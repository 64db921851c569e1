"""The voice flags (``--s1``/``--s2`` with ``-text`` or ``-words``) of render and speak: declared,
read and checked before the model loads, then made into voice prompts. A voice may be a voice
package (``.diavoice``): ``VoiceInput.read`` takes its clip and words."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.command_line import CommandLineError, say
from core.studio.voice_input import VoiceInput


def add_voice_arguments(parser: argparse.ArgumentParser) -> None:
    for speaker in ("s1", "s2"):
        tag = speaker.upper()
        parser.add_argument(f"--{speaker}", type=Path, metavar="AUDIO",
                            help=f"voice reference for [{tag}]: an audio file, or a voice exported from the "
                                 "studio's voice library (.diavoice, its words inside)")
        parser.add_argument(f"--{speaker}-text", metavar="TEXT",
                            help=f"what is said in --{speaker}: replaces Whisper's words (or a voice package's), "
                                 "keeps their timings")
        parser.add_argument(f"--{speaker}-words", type=Path, metavar="JSON",
                            help=f"words of --{speaker} as a JSON list of [word, start_s, end_s]; "
                                 "no Whisper is run")
    parser.add_argument("--whisper-model", default=None,
                        help="Whisper model name (tiny … large-v3, turbo) or a local .pt file, "
                             "used to transcribe voice references (default: large-v3 on a GPU, small on a "
                             "processor)")


def read_voices(args: argparse.Namespace) -> dict[str, VoiceInput]:
    """The voices by flag ("s1", "s2"): the flags checked, the voice files and word lists read
    (unreadable, silent, too short, words outside the clip): a bad voice costs a second, not the
    model's loading."""
    if args.s2 and not args.s1:
        raise CommandLineError("--s2 needs --s1: the first voice reference is always speaker [S1]")
    voices = {}
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
        voices[speaker] = VoiceInput.read(audio, word_file, text)
    return voices


def prepare_voices(engine, voices: dict[str, VoiceInput]) -> tuple:
    """The voice prompts of ``voices``, made on ``engine``; with neither words nor text, a failed
    Whisper ends the run, saying how to go without it."""
    from core.dia2.transcribe import TranscriptionError

    prompts = []
    for speaker, voice in voices.items():
        try:
            prepared = voice.prepared(engine)
        except TranscriptionError as error:
            flag = f"--{speaker}"
            raise CommandLineError(f"{error} Without Whisper, give the words of {flag} with {flag}-words "
                                   f'FILE.json, or {flag}-text "what is said" (timed by word length).') from None
        for notice in prepared.notices:
            say(f"note: {notice}")
        heard = " ".join(word.text for word in prepared.words)
        say(f"[{speaker.upper()}] voice: {prepared.clip.duration_s:.1f} s, words: {heard}")
        prompts.append(prepared.prompt)
    return tuple(prompts)
