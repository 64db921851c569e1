"""``dia-studio render``: a script to an audio file, with flags named after the API parameters,
or a saved project as the window exports it (``--project``, see ``app.project_render``).

Everything is validated before the model loads (a typo costs a second, not a minute); progress
goes to stderr; any bad input ends with one clear line and exit status 2, a cancelled run with 130.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.export import _LOUDNESS_RANGE_LUFS, export_audio
from core.audio.formats import ExportSettings, format_from_path
from core.audio.io import VoiceClip, load_voice_clip
from core.batch.outputs import take_metadata, take_paths
from core.batch.scripts import check_script
from core.dia2.events import GenerationRequest, Progress, TakeResult, TakeStarted
from core.dia2.transcript_alignment import TimedWord, load_words_json
from core.errors import DiaStudioError
from core.params import DEFAULT_MODEL, MODEL_IDS, GenerationParams

EXIT_BAD_INPUT = 2
EXIT_CANCELLED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dia-studio render",
        description="Render a Dia2 dialogue script to an audio file, or a saved project as the studio "
                    "window exports it.",
        epilog="Speakers are marked [S1] and [S2]; cues like (laughs) and pauses like "
               '<break time="1s"/> are allowed. With --number-results N > 1 the takes are written '
               "as NAME_take1.EXT … NAME_takeN.EXT. With --project, the lines are spoken by the takes "
               "kept for them; lines without a take (or changed since theirs) are generated first with "
               "the project's voices and parameters, after the lines before them, as the window does; "
               "the project itself is left as it is unless --keep-takes.")
    script = parser.add_mutually_exclusive_group(required=True)
    script.add_argument("--script", help="the dialogue text")
    script.add_argument("--script-file", type=Path, help="a UTF-8 text file holding the dialogue")
    script.add_argument("--project", type=Path, metavar="NAME.diastudio",
                        help="a project saved by the studio window (its folder, or its project.json)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output file (.mp3, .wav, .flac, .ogg); with --per-line, the folder for the files")
    add_format_argument(parser, "from the extension of --out; with --per-line, MP3")
    add_model_arguments(parser, None, "; with --project, needed only for lines without a take")
    add_voice_arguments(parser)
    add_generation_arguments(parser)
    parser.add_argument("--number-results", type=int, help="takes to make, 1 … 4 (seeds seed, seed+1, …)")
    add_export_arguments(parser)
    parser.add_argument("--codes-out", type=Path, metavar="FILE.npy", help="also save the audio code grid")
    parser.add_argument("--subtitles", action="store_true",
                        help="also write subtitles (.srt) beside each file, from the take's word timings")
    project = parser.add_argument_group("with --project")
    project.add_argument("--lines", metavar="1-3,5",
                         help="only these lines, numbered as the window shows them (default: all)")
    project.add_argument("--per-line", action="store_true",
                         help="one file per line in the folder --out (\"003 Ada.mp3\"), as the export does")
    project.add_argument("--regenerate", action="store_true",
                         help="generate the chosen lines again, even those whose take is current")
    project.add_argument("--keep-takes", action="store_true",
                         help="save the takes generated into the project (default: the project is not changed)")
    return parser


# The flags render shares with speak: one definition each.
def add_format_argument(parser: argparse.ArgumentParser, default: str = "from the extension of --out") -> None:
    parser.add_argument("--format", choices=["MP3", "WAV", "FLAC", "OGG", "mp3", "wav", "flac", "ogg"],
                        help=f"output format (default: {default})")


def add_model_arguments(parser: argparse.ArgumentParser, default: str | None = DEFAULT_MODEL, note: str = "") -> None:
    """``default`` None: no model unless one is given (``load_runtime`` then loads the default)."""
    parser.add_argument("--model", default=default,
                        help=f"{', '.join(MODEL_IDS)}, a Hub id, or a local model folder (default {DEFAULT_MODEL}{note})")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or int8 (int8 weights: fastest on a processor)")
    parser.add_argument("--threads", type=int, help="processor threads (default: every core of a machine with "
                                                     "up to 4, else all but one; fewer on a busy machine)")


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


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help="0 … 2147483647 (default: random, printed)")
    parser.add_argument("--cfg-scale", type=float, help="guidance 1 … 30 (default 3)")
    parser.add_argument("--temperature", type=float, help="text/timing temperature 0 … 5 (default 0.6)")
    parser.add_argument("--audio-temperature", type=float, help="audio temperature 0 … 5 (default 0.8)")
    parser.add_argument("--top-k", type=int, help="1 … 500 (default 50)")
    parser.add_argument("--negative-prompt", help="what to steer away from (2 … 3000 characters)")
    parser.add_argument("--include-prefix", action="store_true", help="keep the voice references at the start")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample-rate", type=int, help="output sample rate (MP3/OGG only)")
    parser.add_argument("--bitrate", type=int, help="output bitrate in kbps (MP3/OGG only)")
    parser.add_argument("--channels", type=int, help="1 or 2 (MP3/OGG only)")
    parser.add_argument("--loudness", type=float, metavar="LUFS", help="normalise to this loudness, e.g. -16")


class CommandLineError(DiaStudioError):
    pass


def run_render(argv: list[str]) -> int:
    return run_command("render", build_parser(), _render, argv)


def run_command(name: str, parser: argparse.ArgumentParser, run, argv: list[str]) -> int:
    """``run(args, cancel)`` on the parsed ``argv``: what it refuses is said as ``dia-studio NAME:
    error: …`` (exit 2); Ctrl-C sets ``cancel`` and says cancelled (exit 130)."""
    args = parser.parse_args(argv)
    cancel = threading.Event()
    try:
        return run(args, cancel)
    except DiaStudioError as error:
        print(f"dia-studio {name}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        cancel.set()
        print(f"\ndia-studio {name}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED


def _render(args: argparse.Namespace, cancel: threading.Event) -> int:
    check_threads(args)
    check_loudness(args)
    if args.project is not None:
        from app.project_render import render_project

        return render_project(args, cancel)
    given = given_flags(args, PROJECT_FLAGS)
    if given:
        raise CommandLineError(f"{given[0]} applies only to --project (a project saved by the studio window)")
    script = _read_script(args)
    check_script(script)  # the tokenizer's checks wait for the model; the tags and words do not
    params = generation_params(args)
    settings = export_settings(args)
    outputs = output_paths(args.out, settings, params.number_results)
    codes_outputs = output_paths(args.codes_out, None, params.number_results) if args.codes_out else None
    voices = read_voices(args)


    runtime = load_runtime(args)
    runtime.parse(script)  # refuse an unspeakable script before transcribing anything
    request = GenerationRequest(script, params, prepare_voices(args, runtime, voices))
    report = GenerationReport(params.number_results)
    for event in runtime.generate(request, cancel):
        report(event)
        if isinstance(event, TakeResult):
            for notice in event.notices:
                _say(f"  note: {notice}")
            path = outputs[event.take]
            export_audio(event.audio, path, settings, take_metadata(script, event), loudness_lufs=args.loudness)
            _say(f"  wrote {path} ({len(event.audio) / event.sample_rate:.2f} s, seed {event.seed})")
            if args.subtitles:
                _write_subtitles(script, event, path)
            if codes_outputs:
                np.save(codes_outputs[event.take], event.codes)
                _say(f"  wrote {codes_outputs[event.take]}")
    return 0


def _write_subtitles(script: str, take, path: Path) -> None:
    """The take's subtitles beside ``path``, as a project's export writes them: one cue per line
    of the script, timed by the take's words."""
    from core.dia2.script import SPEAKER_TAGS
    from core.document.dialogue import Dialogue
    from core.studio.exporting import _write_srt, segments
    from core.studio.take_assembly import take_from_result

    # The model speaks words before the first tag as [S1]; the document wants the tag written.
    tagged = script if script.lstrip().startswith(SPEAKER_TAGS) else f"{SPEAKER_TAGS[0]} {script}"
    dialogue = Dialogue.from_script(tagged)
    heard = take_from_result(take, dialogue.lines)
    if heard is None or not heard.line_times:
        _say(f"  note: no subtitles for {path.name}: the take has no word timings")
        return
    dialogue.add_takes([heard])
    _say(f"  wrote {_write_srt(path.with_suffix('.srt'), dialogue, segments(dialogue))}")


def generation_params(args: argparse.Namespace) -> GenerationParams:
    """The generation flags as the one parameter model (a concrete seed chosen now)."""
    return GenerationParams.create(
        model=args.model if args.model in MODEL_IDS else None, negative_prompt=args.negative_prompt,
        seed=args.seed, cfg_scale=args.cfg_scale, temperature=args.temperature,
        audio_temperature=args.audio_temperature, top_k=args.top_k,
        include_prefix=args.include_prefix or None, number_results=getattr(args, "number_results", None),
    ).with_seed()


def export_settings(args: argparse.Namespace) -> ExportSettings:
    return ExportSettings.create(args.format or format_from_path(args.out), sample_rate=args.sample_rate,
                                 bitrate=args.bitrate, channels=args.channels)


def check_threads(args: argparse.Namespace) -> None:
    if args.threads is not None and args.threads < 1:
        raise CommandLineError(f"--threads {args.threads}: give 1 or more")


def check_loudness(args: argparse.Namespace) -> None:
    """The export would refuse it only once the audio is made: refused before the model loads."""
    low, high = _LOUDNESS_RANGE_LUFS
    if args.loudness is not None and not low <= args.loudness <= high:
        raise CommandLineError(f"--loudness {args.loudness:g}: give {low:g} to {high:g} LUFS, e.g. -16")


# The flags that choose what of a project is rendered, and how (see app.project_render).
PROJECT_FLAGS = ("--lines", "--per-line", "--regenerate", "--keep-takes")


def given_flags(args: argparse.Namespace, flags: tuple[str, ...]) -> list[str]:
    """Those of ``flags`` the command line gave."""
    return [flag for flag in flags if getattr(args, flag.removeprefix("--").replace("-", "_")) not in (None, False)]


def load_runtime(args: argparse.Namespace):
    """The model of ``--model`` (or the default), ``--device``, ``--dtype`` and ``--threads``, saying so on stderr."""
    from core.dia2.runtime import Dia2Runtime

    model = args.model or DEFAULT_MODEL
    _say(f"loading {model} …")
    runtime = Dia2Runtime.load(model, device=args.device, dtype=args.dtype, progress=download_progress(),
                               threads=args.threads)
    _say(f"model ready on {runtime.device} ({runtime.precision})")
    return runtime


def _read_script(args: argparse.Namespace) -> str:
    if args.script is not None:
        return args.script
    try:
        return args.script_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandLineError(f"cannot read the script file {args.script_file}: {error}") from None


def output_paths(path: Path, settings: ExportSettings | None, count: int) -> list[Path]:
    if not path.parent.is_dir():
        raise CommandLineError(f"the folder {path.parent} does not exist")
    check_writable(path.parent)
    if settings is not None and format_from_path(path) is not settings.format:
        raise CommandLineError(f"--out {path.name} does not end in {settings.format.extension}, "
                               f"the extension of {settings.format.value}")
    return take_paths(path, count)


def check_writable(folder: Path) -> None:
    """Files are written once their audio is made: a folder that cannot take them is refused now.
    Tried by writing there, which answers for permissions, read-only disks and root alike."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise CommandLineError(f"the folder {folder} cannot be written to: {error.strerror or error}") from None


@dataclass(frozen=True)
class _VoiceInput:
    """A voice reference as the flags give it, read and checked before the model loads."""

    speaker: str  # "s1" or "s2", as in the flags
    clip: VoiceClip
    words: list[TimedWord] | None  # from --sN-words, timed against the file
    text: str | None  # from --sN-text


def read_voices(args: argparse.Namespace) -> list[_VoiceInput]:
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
        voices.append(_VoiceInput(speaker, clip, words, text))
    return voices


def prepare_voices(args: argparse.Namespace, runtime, voices: list[_VoiceInput]) -> tuple:
    transcriber = None
    prompts = []
    for voice in voices:
        if voice.words is None and transcriber is None:
            from core.dia2.transcribe import WhisperTranscriber

            transcriber = WhisperTranscriber(args.whisper_model, device=runtime.device,
                                             on_model_load=lambda model: _say(f"loading Whisper {model} …"))
        prepared = _prepared_voice(runtime, voice, transcriber)
        for notice in prepared.notices:
            _say(f"note: {notice}")
        heard = " ".join(word.text for word in prepared.words)
        _say(f"[{voice.speaker.upper()}] voice: {prepared.clip.duration_s:.1f} s, words: {heard}")
        prompts.append(prepared.prompt)
    return tuple(prompts)


def _prepared_voice(runtime, voice: _VoiceInput, transcriber):
    """The voice prompt; with neither words nor text a failed Whisper ends the run, saying how
    to go without it."""
    from core.dia2.transcribe import TranscriptionError
    from core.dia2.voices import prepare_voice

    try:
        return prepare_voice(runtime, voice.clip, words=voice.words, corrected_text=voice.text,
                             transcriber=transcriber)
    except TranscriptionError as error:
        flag = f"--{voice.speaker}"
        raise CommandLineError(f"{error} Without Whisper, give the words of {flag} with {flag}-words "
                               f'FILE.json, or {flag}-text "what is said" (timed by word length).') from None


class GenerationReport:
    """A generation's progress on stderr: each take's seed, and at most one line a second of how far it is."""

    def __init__(self, takes: int):
        self.takes = takes
        self._last_report = 0.0

    def __call__(self, event) -> None:

        if isinstance(event, TakeStarted):
            _say(f"take {event.take + 1}/{self.takes}: seed {event.seed}")
        elif isinstance(event, Progress) and time.monotonic() - self._last_report > 1.0:
            self._last_report = time.monotonic()
            _say(f"  frame {event.frames}: {event.audio_s:.1f} s of audio, "
                 f"{event.realtime_factor:.2f}x real time")


def download_progress():
    """A download progress callback that prints to stderr at most once a second (and at the end)."""
    state = {"last": 0.0}

    def report(done: int, total: int, what: str) -> None:
        if time.monotonic() - state["last"] > 1.0 or (total and done >= total):
            state["last"] = time.monotonic()
            _say(f"  downloading {what}: {done / 1e6:.0f} / {total / 1e6:.0f} MB")

    return report


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
