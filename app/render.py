"""``dia-studio render``: a script to an audio file, with flags named after the API parameters,
or a saved project as the window exports it (``--project``, see ``app.project_render``).

Progress goes to stderr; any bad input ends with one clear line and exit status 2, a cancelled
run with 130."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import numpy as np

from app.command_line import (CommandLineError, GenerationReport, add_export_arguments, add_format_argument,
                              add_generation_arguments, add_lexicon_argument, add_model_arguments, check_loudness,
                              check_threads, export_settings, generation_params, given_flags, load_engine,
                              output_paths, read_lexicons, run_command, say)
from app.voice_flags import add_voice_arguments, prepare_voices, read_voices
from core.batch.outputs import export_take, heard_take, script_speakers
from core.batch.scripts import check_script
from core.dia2.events import GenerationRequest, TakeResult
from core.lexicon.respelling import respell
from core.studio.lexicon_use import written_result
from core.studio.speaker_stems import stem_path


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
    add_lexicon_argument(parser)
    parser.add_argument("--number-results", type=int, help="takes to make, 1 … 4 (seeds seed, seed+1, …)")
    parser.add_argument("--best-of", type=int, metavar="N",
                        help="make N takes (2 … 4), check each (a swapped speaker, dropped words, silences, "
                             "babble …) and write only the best-scoring one to --out")
    add_export_arguments(parser)
    parser.add_argument("--codes-out", type=Path, metavar="FILE.npy", help="also save the audio code grid")
    parser.add_argument("--subtitles", action="store_true",
                        help="also write subtitles (.srt) beside each file, from the take's word timings")
    parser.add_argument("--stems", action="store_true",
                        help="also write one file per speaker beside each file (NAME.S1.EXT, NAME.S2.EXT; with "
                             "--project NAME.S1-Ann.EXT): the whole length, that speaker's lines in place, silence "
                             "elsewhere; together they add up to the file")
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


def run_render(argv: list[str]) -> int:
    return run_command("render", build_parser(), _render, argv)


def _render(args: argparse.Namespace, cancel: threading.Event) -> int:
    check_threads(args)
    check_loudness(args)
    if args.stems and args.per_line:
        raise CommandLineError("--stems goes with one file, cut to its length: with --per-line each line is a "
                               "file of its own already")
    if args.project is not None:
        from app.project_render import render_project

        return render_project(args, cancel)
    given = given_flags(args, PROJECT_FLAGS)
    if given:
        raise CommandLineError(f"{given[0]} applies only to --project (a project saved by the studio window)")
    if args.best_of is not None:
        if args.number_results is not None:
            raise CommandLineError("give --best-of or --number-results, not both")
        if not 2 <= args.best_of <= 4:
            raise CommandLineError(f"--best-of is {args.best_of}: give 2, 3 or 4 takes to choose from")
        args.number_results = args.best_of
    script = _read_script(args)
    check_script(script)  # the tokenizer's checks wait for the model; the tags and words do not
    respelled = respell(script, read_lexicons(args.lexicon))  # what the model reads
    params = generation_params(args)
    settings = export_settings(args)
    outputs = output_paths(args.out, settings, 1 if args.best_of else params.number_results)
    codes_outputs = output_paths(args.codes_out, None, len(outputs)) if args.codes_out else None
    voices = read_voices(args)
    engine = load_engine(args)
    engine.parse(respelled.spoken)  # refuse an unspeakable script before transcribing anything
    request = GenerationRequest(respelled.spoken, params, prepare_voices(engine, voices))
    report = GenerationReport(params.number_results)
    made = []
    for event in engine.generate(request, cancel):
        report(event)
        if isinstance(event, TakeResult):
            event = written_result(event, [respelled])  # its words as written
            for notice in event.notices:
                say(f"  note: {notice}")
            if args.best_of:
                made.append(event)
            else:
                _write_take(args, script, event, outputs[event.take], codes_outputs and codes_outputs[event.take])
    if args.best_of:
        best = best_of(script, made, voices)
        _write_take(args, script, best, outputs[0], codes_outputs and codes_outputs[0])
    return 0


def _write_take(args: argparse.Namespace, script: str, take: TakeResult, path: Path, codes_path: Path | None) -> None:
    written = export_take(script, take, path, export_settings(args), args.loudness, args.stems)
    say(f"  wrote {path} ({len(take.audio) / take.sample_rate:.2f} s, seed {take.seed})")
    for stem in written[1:]:
        say(f"  wrote {stem}")
    if args.subtitles:
        _write_subtitles(script, take, path, args.stems)
    if codes_path:
        np.save(codes_path, take.codes)
        say(f"  wrote {codes_path}")


def best_of(script: str, results: list[TakeResult], voices: dict) -> TakeResult:
    """The take that checks best (the highest score; the first among equals), each take's checks said."""
    from core.studio.take_checking import best_result
    from core.take_checks.speaker_encoder import LstmVoiceEncoder
    from core.take_checks.take_checker import Voice

    references = {speaker.upper(): Voice(voice.clip.samples, voice.clip.sample_rate) for speaker, voice in voices.items()}
    best, checked = best_result(script, results, references, LstmVoiceEncoder())
    for result, checks in checked:
        flagged = "; ".join(f"line {line.number} {line.verdict.value}: {flag.detail}"
                            for line in checks.flagged for flag in line.flags)
        say(f"  take {result.take + 1} (seed {result.seed}): score {checks.score}" + (f"; {flagged}" if flagged else ""))
    if best is None:
        raise CommandLineError("no take was finished: nothing to choose from")
    score = next(checks.score for result, checks in checked if result is best)
    say(f"  best of {len(results)}: take {best.take + 1} (score {score})")
    return best


def _write_subtitles(script: str, take: TakeResult, path: Path, stems: bool) -> None:
    """The take's subtitles beside ``path``, as a project's export writes them: one cue per line
    of the script, timed by the take's words; with ``stems``, beside each stem its speaker's."""
    from core.studio.exporting import segments, write_subtitles

    heard = heard_take(script, take)
    if heard is None:
        say(f"  note: no subtitles for {path.name}: the take has no word timings")
        return
    dialogue, _ = heard
    pieces = segments(dialogue)
    say(f"  wrote {write_subtitles(path.with_suffix('.srt'), dialogue, pieces)}")
    for speaker in script_speakers(script) if stems else ():
        say(f"  wrote {write_subtitles(stem_path(path, speaker).with_suffix('.srt'), dialogue, pieces, speaker)}")


# The flags that choose what of a project is rendered, and how (see app.project_render).
PROJECT_FLAGS = ("--lines", "--per-line", "--regenerate", "--keep-takes")


def _read_script(args: argparse.Namespace) -> str:
    if args.script is not None:
        return args.script
    try:
        return args.script_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandLineError(f"cannot read the script file {args.script_file}: {error}") from None
