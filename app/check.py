"""``dia-studio check``: any take checked line by line, as the studio checks its own (core/take_checks):
a swapped speaker, words the model did not say or a listener does not hear, silences, run-on
sound, pace, clipping, a line too quiet. A table for people, ``--json`` for programs."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from app.command_line import CommandLineError, run_command, say
from core.audio.io import load_voice_clip, read_audio
from core.take_checks.verdicts import THRESHOLDS, CheckSettings, InvalidThreshold, TakeReport, Verdict, tuned

EXIT_BAD_LINE = 1  # the check ran and found a line to remake (as diff and grep say "found")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dia-studio check", description="Check a take line by line: a swapped speaker, dropped or misheard "
        "words, silences, run-on sound, pace, clipping, a line too quiet.",
        epilog="Exit status: 0 when no line is bad, 1 when one is, 2 for input it cannot use. Without Whisper "
               "(--whisper-model, or a model already downloaded) the words a listener hears are 'not checked'.")
    parser.add_argument("audio", type=Path, metavar="AUDIO", help="the take (.wav, .flac, .mp3, .ogg, …)")
    parser.add_argument("--script", type=Path, required=True, metavar="SCRIPT",
                        help="the script the take was made from: [S1]/[S2] tags, one line per text line")
    parser.add_argument("--line-times", type=Path, required=True, metavar="TIMES.json",
                        help="[[start_s, end_s], …]: where the take speaks each line of the script, in order "
                             "(null for a line it never reached)")
    parser.add_argument("--words", type=Path, metavar="WORDS.json",
                        help="the model's word timings, [word, start_s, end_s] items (the studio's word list): "
                             "finds words the model did not say and sound that runs on")
    for speaker in ("s1", "s2"):
        parser.add_argument(f"--{speaker}", type=Path, metavar="VOICE",
                            help=f"[{speaker.upper()}]'s voice reference (else its other lines in the take)")
    parser.add_argument("--whisper-model", metavar="NAME|FILE",
                        help="hear each line with this Whisper model (tiny … large-v3, or a .pt file; a name is "
                             "downloaded the first time); default: the processor's model when it is downloaded")
    parser.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                        help="judge by another threshold (repeatable): " + ", ".join(
                            f"{name} ({getattr(CheckSettings(), name):g})" for name in THRESHOLDS))
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def thresholds(pairs: list[str]) -> CheckSettings:
    """``--threshold`` as given: NAME=VALUE pairs, each name and value checked."""
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise CommandLineError(f"--threshold {pair}: give NAME=VALUE, the value a number") from None
        if not equals:
            raise CommandLineError(f"--threshold {pair}: give NAME=VALUE")
    try:
        return tuned(values)
    except InvalidThreshold as error:
        raise CommandLineError(f"--threshold: {error}") from None


def run_check(argv: list[str]) -> int:
    return run_command("check", build_parser(), _check, argv)


def _check(args: argparse.Namespace, cancel: threading.Event) -> int:
    from core.document.script_text import parse_script
    from core.take_checks.line_times import load_line_times
    from core.take_checks.speaker_encoder import LstmVoiceEncoder
    from core.take_checks.take_checker import TakeToCheck, Voice, WrittenLine, check_take

    settings = thresholds(args.threshold)
    samples, rate = read_audio(args.audio)
    samples = samples.mean(axis=1)
    try:
        script = args.script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandLineError(f"cannot read the script {args.script}: {error}") from None
    lines = [line for line in parse_script(script) if line.spoken_text]
    spans = load_line_times(args.line_times, len(lines), len(samples) / rate)
    voices = {}
    for speaker in ("s1", "s2"):
        path = getattr(args, speaker)
        if path is not None:
            clip = load_voice_clip(path)  # refuses a voice with no speech, saying so
            voices[speaker.upper()] = Voice(clip.samples, clip.sample_rate)
    take = TakeToCheck(samples, rate, tuple(WrittenLine(line.speaker.value, line.spoken_text, span)
                                            for line, span in zip(lines, spans)),
                       _words(args.words), voices)
    transcriber = _transcriber(args.whisper_model)
    if transcriber is None:
        say("note: no Whisper model is downloaded: give --whisper-model (tiny, base, small, …) to hear the lines")
    report = check_take(take, settings, LstmVoiceEncoder(), transcriber)
    if args.json:
        json.dump(report.as_json(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(table(report, args.audio.name))
    return EXIT_BAD_LINE if any(line.verdict is Verdict.BAD for line in report.lines) else 0


def _words(path: Path | None):
    from core.dia2.transcript_alignment import load_words_json

    return None if path is None else tuple(load_words_json(path))


def _transcriber(model: str | None):
    """Whisper as asked; by default the processor's model where it is downloaded, else none."""
    from core.dia2.transcribe import WhisperTranscriber, model_on_disk

    model = model or model_on_disk(None, "cpu")
    if model is None:
        return None
    say(f"hearing the lines with Whisper {model}")
    return WhisperTranscriber(model, device="cpu", on_model_load=lambda name: say(f"loading Whisper {name} …"))


def table(report: TakeReport, name: str) -> str:
    """The report as a person reads it: the score, then each line with its flags."""
    counts = {verdict: sum(line.verdict is verdict for line in report.lines) for verdict in Verdict}
    rows = [f"{name}: score {report.score} ({len(report.lines)} lines: {counts[Verdict.GOOD]} good, "
            f"{counts[Verdict.CHECK]} to check, {counts[Verdict.BAD]} bad)"]
    for line in report.lines:
        where = "not in the take" if line.span is None else f"{line.span[0]:6.2f}–{line.span[1]:6.2f} s"
        rows.append(f"  line {line.number:>3}  [{line.speaker}]  {where:>17}  {line.verdict.value}")
        for flag in line.flags:
            at = "" if flag.at_s is None else f" (at {flag.at_s:.2f} s)"
            rows.append(f"      {flag.kind.replace('_', ' ')}: {flag.detail}{at}")
    unchecked = sorted({kind for line in report.lines for kind in line.not_checked})
    if unchecked:
        rows.append("not checked: " + ", ".join(kind.replace("_", " ") for kind in unchecked))
    rows += report.notices
    return "\n".join(rows)
