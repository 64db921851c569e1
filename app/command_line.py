"""What every command of ``dia-studio`` shares: exit statuses, the one error type, running a command
(its errors and Ctrl-C said in one line), the flags render, speak and batch have in common and
their checks, loading the model, the progress report, and saying things on stderr.

Everything is validated before the model loads (a typo costs a second, not a minute)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from core.audio.formats import LOUDNESS_RANGE_LUFS, ExportSettings, format_from_path
from core.batch.outputs import take_paths
from core.dia2.events import Progress, TakeStarted
from core.errors import DiaStudioError, describe_error
from core.params import DEFAULT_MODEL, DEFAULT_WARM_VOICES_MB, MODEL_IDS, GenerationParams


EXIT_BAD_INPUT = 2


EXIT_CANCELLED = 130


class CommandLineError(DiaStudioError):
    pass


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


# The flags render shares with speak: one definition each.
def add_format_argument(parser: argparse.ArgumentParser, default: str = "from the extension of --out") -> None:
    parser.add_argument("--format", choices=["MP3", "WAV", "FLAC", "OGG", "mp3", "wav", "flac", "ogg"],
                        help=f"output format (default: {default})")


def add_model_arguments(parser: argparse.ArgumentParser, default: str | None = DEFAULT_MODEL, note: str = "") -> None:
    """``default`` None: no model unless one is given (``load_engine`` then loads the default)."""
    parser.add_argument("--model", default=default,
                        help=f"{', '.join(MODEL_IDS)}, a Hub id, or a local model folder (default {DEFAULT_MODEL}{note})")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default="auto",
                        help="auto, float32, bfloat16 or int8 (bfloat16 and int8 weights: nearly twice float32's "
                             "speed on a recent processor; int8 takes half bfloat16's memory)")
    parser.add_argument("--threads", type=int, help="processor threads (default: every core of a machine with "
                                                     "up to 4, else all but one; fewer on a busy machine)")
    add_warm_voices_argument(parser)


def add_warm_voices_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warm-voices-mb", type=int, metavar="MB",
                        help="memory for the model's state after voice prompts, kept so that the next generation "
                             f"with the same voices skips their prefill (default {DEFAULT_WARM_VOICES_MB}; 0: keep none)")


def add_lexicon_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lexicon", action="append", type=Path, default=[], metavar="FILE",
                        help="a pronunciation lexicon (.json, .csv or .pls, as the studio exports it): its words "
                             "are read as respelled (repeatable; a later file's entries win)")


def read_lexicons(paths: list[Path]):
    """The lexicon of ``--lexicon`` files, a later file's entries winning over an earlier's; what a
    file left out is said. Read before the model loads: a file it cannot use is refused whole."""
    from core.lexicon.errors import LexiconFileError
    from core.lexicon.files import read_lexicon
    from core.lexicon.lexicon import Lexicon

    lexicon = Lexicon()
    for path in paths:
        try:
            read, problems = read_lexicon(path)
        except LexiconFileError as error:
            raise CommandLineError(describe_error(error)) from None
        for problem in problems:
            say(f"note: {path.name}: {problem}")
        lexicon = Lexicon.merged(read, lexicon)
    return lexicon


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
    if args.warm_voices_mb is not None and args.warm_voices_mb < 0:
        raise CommandLineError(f"--warm-voices-mb {args.warm_voices_mb}: give 0 or more")


def check_loudness(args: argparse.Namespace) -> None:
    """The export would refuse it only once the audio is made: refused before the model loads."""
    low, high = LOUDNESS_RANGE_LUFS
    if args.loudness is not None and not low <= args.loudness <= high:
        raise CommandLineError(f"--loudness {args.loudness:g}: give {low:g} to {high:g} LUFS, e.g. -16")


def given_flags(args: argparse.Namespace, flags: tuple[str, ...]) -> list[str]:
    """Those of ``flags`` the command line gave."""
    return [flag for flag in flags if getattr(args, flag.removeprefix("--").replace("-", "_")) not in (None, False)]


def load_engine(args: argparse.Namespace, kind: str = "in-process"):
    """The engine of a command (``kind``: in-process, or own-process for ``batch --engine``) with the
    model of ``--model`` (or the default), ``--device``, ``--dtype`` and ``--threads`` loaded, and
    the Whisper model of ``--whisper-model`` where the command has it; saying so on stderr."""
    from core.engine.choice import EngineChoice, open_engine
    from core.engine.engine import EngineKind

    engine = open_engine(EngineChoice(EngineKind(kind)), on_speech_model_load=lambda name: say(f"loading Whisper {name} …"),
                         speech_model=getattr(args, "whisper_model", None), threads=args.threads,
                         warm_voices_bytes=None if args.warm_voices_mb is None else args.warm_voices_mb * 2**20)
    model = args.model or DEFAULT_MODEL
    say(f"loading {model} …")
    try:
        info = engine.load(model, device=args.device, precision=args.dtype, progress=download_progress())
    except BaseException:
        engine.close()
        raise
    say(f"model ready on {info.device} ({info.precision})")
    return engine


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


class GenerationReport:
    """A generation's progress on stderr: each take's seed, and at most one line a second of how far it is."""

    def __init__(self, takes: int):
        self.takes = takes
        self._last_report = 0.0

    def __call__(self, event) -> None:
        if isinstance(event, TakeStarted):
            say(f"take {event.take + 1}/{self.takes}: seed {event.seed}")
        elif isinstance(event, Progress) and time.monotonic() - self._last_report > 1.0:
            self._last_report = time.monotonic()
            say(f"  frame {event.frames}: {event.audio_s:.1f} s of audio, "
                 f"{event.realtime_factor:.2f}x real time")


def download_progress():
    """A download progress callback that prints to stderr at most once a second (and at the end)."""
    state = {"last": 0.0}

    def report(done: int, total: int, what: str) -> None:
        if time.monotonic() - state["last"] > 1.0 or (total and done >= total):
            state["last"] = time.monotonic()
            say(f"  downloading {what}: {done / 1e6:.0f} / {total / 1e6:.0f} MB")

    return report


def say_serving(args: argparse.Namespace, config) -> None:
    """What ``serve`` says once it serves, on this machine or on a Ray cluster."""
    # What runs (a folder, a Hub id or a known id), and the model ids a task may name for it.
    say(f"serving {args.model} as model {' or '.join(config.served_models)} on http://{args.host}:{args.port}/v1, "
        f"and to studios at http://{args.host}:{args.port} (data in {args.data_dir})")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
