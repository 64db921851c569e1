"""``dia-studio speak``: text from stdin spoken as it arrives (pipe a language model into it),
played on the sound device as it is made, or written to a file, or as raw PCM to stdout.

stdin is read as it comes (partial lines too; no waiting for its end), and each piece goes into a
live take opened before the first one arrives (the model and the voices ready). The end of stdin
ends the take. Ctrl-C stops at once; a file keeps what was made. The flags are render's.
"""

from __future__ import annotations

import argparse
import codecs
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO

from app.command_line import (EXIT_BAD_INPUT, EXIT_CANCELLED, CommandLineError, GenerationReport,
                              add_export_arguments, add_format_argument, add_generation_arguments,
                              add_lexicon_argument, add_model_arguments, check_loudness, check_threads,
                              export_settings, generation_params, load_engine, output_paths, read_lexicons)
from app.voice_flags import add_voice_arguments, prepare_voices, read_voices
from core.audio.pcm_stream import ENCODINGS, PcmStream
from core.batch.outputs import take_metadata
from core.dia2.events import AudioChunk, Progress, Stalled, TakeResult
from core.errors import DiaStudioError

READ_BYTES = 65536
_END = object()
_PLAYED_OUT_POLL_S = 0.05


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dia-studio speak", description="Speak text from stdin as it arrives (pipe a language model into "
        "it): played on the sound device as it is made, or written to a file, or raw PCM to stdout.",
        epilog="The end of stdin (Ctrl-D) ends the take; Ctrl-C stops at once, and -o keeps what was made. "
               "Text is spoken as render speaks a script: [S1]/[S2], cues, <break time=\"1s\"/>.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--out", type=Path, help="write the take to this file (.wav, .flac, .mp3, .ogg) "
                                                      "instead of playing it")
    where.add_argument("--raw", action="store_true", help="write raw mono PCM to stdout as it is made (its "
                                                          "rate: --sample-rate, default 24000)")
    parser.add_argument("--encoding", choices=ENCODINGS, help="the samples of --raw (default pcm_f32le)")
    add_format_argument(parser)
    add_model_arguments(parser)
    add_voice_arguments(parser)
    add_generation_arguments(parser)
    add_lexicon_argument(parser)
    add_export_arguments(parser)
    return parser


def run_speak(argv: list[str], sound_system=None, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """``sound_system``: the AudioBackend to play on (default: the real one); ``stdin``: a file with
    a descriptor, ``stdout``: a binary stream (default: the process's own)."""
    args = build_parser().parse_args(argv)
    try:
        return _speak(args, sound_system, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)
    except DiaStudioError as error:
        print(f"dia-studio speak: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # a second Ctrl-C, while the first one's stop was being finished
        return EXIT_CANCELLED
    except BrokenPipeError:  # stdout's reader went away (`| head -c …`): nothing more to do
        if stdout is None:  # no complaint at exit about the pipe's last flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _speak(args: argparse.Namespace, sound_system, stdin: BinaryIO, stdout: BinaryIO) -> int:
    check_threads(args)
    check_loudness(args)
    params = generation_params(args)
    sink = _sink(args, sound_system, stdout)  # every flag checked before the model loads
    lexicon = read_lexicons(args.lexicon)
    voices = read_voices(args)
    engine = load_engine(args)
    take = engine.open_live_take(params, prepare_voices(engine, voices))
    say(f"seed {take.seed}: speaking stdin as it comes (its end finishes the take; Ctrl-C stops)")
    feed = _StdinFeed(stdin, take, lexicon)
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_run_take, args=(take, events), name="live-take", daemon=True).start()
    try:
        result = _follow(events, sink)
    except KeyboardInterrupt:
        take.cancel()
        sink.interrupt()
        say("\nstopping …")
        result = feed.written(_follow(events, sink))
        sink.finish(result, feed.text)
        return EXIT_CANCELLED
    except BrokenPipeError:
        take.cancel()
        raise
    result = feed.written(result)
    if feed.problem is not None:
        sink.finish(result, feed.text)
        raise feed.problem
    sink.finish(result, feed.text)
    return 0


def _run_take(take, events: queue.Queue) -> None:
    try:
        for event in take.events():
            events.put(event)
        events.put(_END)
    except BaseException as error:  # raised in the main thread
        events.put(error)


def _follow(events: queue.Queue, sink) -> object:
    """Hand the take's audio to ``sink`` as it comes; the finished (or cancelled) take."""

    report, result, audio_s = GenerationReport(1), None, 0.0
    while True:
        try:
            event = events.get(timeout=0.2)  # a timeout: Ctrl-C is seen at once
        except queue.Empty:
            continue
        if event is _END:
            return result
        if isinstance(event, BaseException):
            raise event
        if isinstance(event, AudioChunk):
            sink.audio(event.samples)
        elif isinstance(event, Progress):
            report(event)
            audio_s = event.audio_s
        elif isinstance(event, Stalled) and event.waiting_s == 0:  # said once a wait: the text ran behind
            say(f"  waiting for more text: {audio_s:.1f} s of audio so far")
        elif isinstance(event, TakeResult):
            result = event


class _StdinFeed:
    """stdin into the take, as it arrives (respelled by the lexicon as it settles), on a thread of
    its own."""

    def __init__(self, stdin: BinaryIO, take, lexicon):
        from core.lexicon.streamed import StreamedRespelling

        self.take = take
        self.respelling = StreamedRespelling(lexicon)
        self.pieces: list[str] = []  # as written
        self.problem: DiaStudioError | None = None
        self._stdin = stdin
        threading.Thread(target=self._read, name="stdin", daemon=True).start()

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def _read(self) -> None:
        from core.dia2.script import UnspeakableScript

        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            # os.read: whatever has arrived, no waiting for a full buffer; and no buffer's lock held
            # by this thread, which would stop the interpreter's exit after a Ctrl-C.
            while data := os.read(self._stdin.fileno(), READ_BYTES):
                self._push(decoder.decode(data))
            self._push(decoder.decode(b"", final=True))
            self._send(self.respelling.end())
            self.take.end_text()
        except UnicodeDecodeError as error:
            self._stop(CommandLineError(f"stdin is not UTF-8 text ({error.reason} at byte {error.start} of a "
                                        "piece); the take stops there."))
        except UnspeakableScript as error:  # at the end: no words at all, or a speaker tag last
            self._stop(CommandLineError(f"stdin: {error}"))
        except OSError as error:
            self._stop(CommandLineError(f"stdin could not be read: {error}"))

    def _push(self, text: str) -> None:
        from core.dia2.script import unknown_speaker_tag, without_unknown_speaker_tags

        # An unknown speaker tag goes before the text does, alone: the words around it are spoken
        # (one piece may be the whole of stdin), and one last is not held to fail the end.
        text, unknown = without_unknown_speaker_tags(text)
        for tag in unknown:
            say(f"note: left out {tag}: {unknown_speaker_tag(tag)}")
        if not text:
            return
        if self._send(self.respelling.take(text)):
            self.pieces.append(text)

    def _send(self, text: str) -> bool:
        """False when the model cannot follow ``text`` (a bad pause): said, left out."""
        from core.dia2.script import UnspeakableScript

        if not text:
            return True
        try:
            self.take.push_text(text)
        except UnspeakableScript as error:
            say(f"note: left out {text.strip()[:40]!r}: {error}")
            return False
        return True

    def written(self, result):
        """The finished take with its words as written (the lexicon's respellings mapped back)."""
        from core.studio.lexicon_use import written_result

        return result if result is None else written_result(result, self.respelling.pieces)

    def _stop(self, problem: DiaStudioError) -> None:
        self.problem = problem
        self.take.cancel()


# ---- where the audio goes -------------------------------------------------------------------------
def _sink(args: argparse.Namespace, sound_system, stdout: BinaryIO):
    file_only = {"--format": args.format, "--bitrate": args.bitrate, "--channels": args.channels,
                 "--loudness": args.loudness}
    if args.out is None:
        given = [flag for flag, value in file_only.items() if value is not None]
        if given:
            raise CommandLineError(f"{', '.join(given)} need -o FILE: they set up the file written")
    if args.encoding is not None and not args.raw:
        raise CommandLineError("--encoding is the PCM of --raw")
    if args.out is not None:
        settings = export_settings(args)
        return _FileSink(output_paths(args.out, settings, 1)[0], settings, args.loudness)
    if args.raw:
        if stdout.isatty():
            raise CommandLineError("--raw writes binary audio: pipe it into a player, e.g. "
                                   "| aplay -t raw -f FLOAT_LE -r 24000 -c 1")
        from core.audio import MODEL_SAMPLE_RATE

        return _RawSink(PcmStream(args.encoding or "pcm_f32le", args.sample_rate or MODEL_SAMPLE_RATE,
                                  encoding_field="--encoding", rate_field="--sample-rate"), stdout)
    if args.sample_rate is not None:
        raise CommandLineError("--sample-rate needs -o FILE or --raw: the sound device plays at its own rate")
    return _PlayerSink(sound_system)


class _FileSink:
    def __init__(self, path: Path, settings, loudness: float | None):
        self.path, self.settings, self.loudness = path, settings, loudness

    def audio(self, samples) -> None:
        pass  # the file is the finished take's

    def interrupt(self) -> None:
        pass

    def finish(self, take, text: str) -> None:
        from core.audio.export import export_audio

        if take is None or not len(take.audio):
            say(f"nothing was spoken yet: {self.path} not written")
            return
        export_audio(take.audio, self.path, self.settings, take_metadata(text, take), loudness_lufs=self.loudness)
        what = "" if take.complete else ", what was made before the stop"
        say(f"wrote {self.path} ({len(take.audio) / take.sample_rate:.2f} s, seed {take.seed}{what})")


class _RawSink:
    def __init__(self, pcm: PcmStream, stdout: BinaryIO):
        self.pcm, self.stdout = pcm, stdout

    def audio(self, samples) -> None:
        self.stdout.write(self.pcm.encode(samples))
        self.stdout.flush()

    def interrupt(self) -> None:
        pass

    def finish(self, take, text: str) -> None:
        self.stdout.write(self.pcm.finish())
        self.stdout.flush()


class _PlayerSink:
    """The sound device, playing from the first chunk; the take's end waits for it to play out."""

    def __init__(self, sound_system):
        from core.audio.errors import NoAudioDevice
        from core.audio.playback import StreamingPlayer

        if sound_system is None:
            from core.audio.sounddevice_backend import SoundDeviceBackend

            sound_system = SoundDeviceBackend()
        if sound_system.default_output() is None:
            raise NoAudioDevice("No sound output was found: connect one, or write a file (-o) or raw PCM (--raw).")
        self.player = StreamingPlayer(sound_system)
        self.stopped = False

    def audio(self, samples) -> None:
        from core.audio.playback import PlayerState

        if self.stopped:
            return
        self.player.append(samples)
        if self.player.state is PlayerState.STOPPED:
            self.player.play()

    def interrupt(self) -> None:
        self.stopped = True
        self.player.stop()

    def finish(self, take, text: str) -> None:
        from core.audio.playback import PlayerState

        self.player.finish()
        while self.player.state is PlayerState.PLAYING:
            time.sleep(_PLAYED_OUT_POLL_S)
        if self.player.error is not None:
            raise self.player.error
        if take is not None:
            say(f"played {len(take.audio) / take.sample_rate:.2f} s (seed {take.seed})")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
