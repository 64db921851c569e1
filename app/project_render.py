"""``dia-studio render --project``: a saved project rendered without the window, through the
window's own export (``core.studio.exporting``): the whole dialogue, the lines of ``--lines``, or
one file per line; with ``--stems`` also a file per speaker.

Lines whose kept take speaks them as written are heard from it; the others are generated first,
as the window would generate them when selected (``core.studio.dialogue_generation``): with the
project's voices and parameters, after the lines before them. The project on disk is left as it
was, unless ``--keep-takes`` saves the new takes into it.
"""

from __future__ import annotations

import argparse
import re
import threading

from app.command_line import (CommandLineError, GenerationReport, check_writable, given_flags, load_engine,
                              output_paths, read_lexicons, say)
from app.studio_data import studio_data_folder
from core.audio.formats import ExportSettings, format_from_path
from core.batch.projects import LinesLeftOut, generate_runs
from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of
from core.project.layout import project_folder, project_name
from core.project.opening import open_project
from core.project.saving import save_project
from core.studio.dialogue_generation import lines_to_generate, voices_in_order
from core.studio.exporting import ExportChoice, export_dialogue
from core.studio.lexicon_use import use_shared_lexicon
from core.studio.take_checking import flagged_lines

# The flags of a script's render: a project has its own voices and parameters.
SCRIPT_FLAGS = ("--s1", "--s1-text", "--s1-words", "--s2", "--s2-text", "--s2-words", "--whisper-model", "--seed",
                "--cfg-scale", "--temperature", "--audio-temperature", "--top-k", "--negative-prompt",
                "--include-prefix", "--number-results", "--best-of", "--codes-out")
_LINE_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def render_project(args: argparse.Namespace, cancel: threading.Event) -> int:
    given = given_flags(args, SCRIPT_FLAGS)
    if given:
        raise CommandLineError(f"{given[0]} does not apply to --project: a project is generated with its own "
                               "voices and parameters (set them in the studio window)")
    folder = project_folder(args.project)
    if not folder.exists():
        raise CommandLineError(f"there is no project at {args.project}")
    dialogue = open_project(folder)
    given = read_lexicons(args.lexicon)  # --lexicon: over the shared lexicon, under the project's
    for note in use_shared_lexicon(dialogue, studio_data_folder(), given):  # read as the window reads them
        say(f"note: {note}")
    chosen = chosen_lines(dialogue, args.lines)
    choice = _export_choice(args, chosen)
    runs = lines_to_generate(dialogue, chosen, again=args.regenerate)
    if runs:
        _generate(args, dialogue, runs, cancel)
        if args.keep_takes:
            save_project(dialogue, folder)
            say(f"saved the new takes in {folder}")
    elif args.keep_takes:
        say("note: every line rendered has its take already: there is no new take to keep")
    if args.per_line:
        args.out.mkdir(exist_ok=True)
    for path in export_dialogue(dialogue, choice, project_name(folder)):
        say(f"wrote {path}")
    _say_flagged(dialogue, chosen)
    return 0


def _say_flagged(dialogue: Dialogue, chosen: list[str]) -> None:
    """What the kept takes' checks (saved with the project) flag among the lines rendered."""
    flagged = [line_id for line_id in flagged_lines(dialogue) if line_id in chosen]
    if flagged:
        say(f"note: the checks flag {line_numbers(rows_of(dialogue, flagged))} in the takes kept: listen to "
            f"{'it' if len(flagged) == 1 else 'them'}, or make {'it' if len(flagged) == 1 else 'them'} until good "
            "in the studio (Ctrl+F5)")


def chosen_lines(dialogue: Dialogue, lines: str | None) -> list[str]:
    """The ids of the lines ``--lines`` names ("1-3,5", numbered from 1 as the window shows them;
    default: all) that have words to speak, in dialogue order."""
    count = len(dialogue.lines)
    if lines is None:
        numbers = set(range(1, count + 1))
    else:
        numbers = set()
        for item in lines.split(","):
            found = _LINE_RANGE.fullmatch(item)
            if not found:
                raise CommandLineError(f"--lines {lines}: {item.strip()!r} is not a line number or a range "
                                       "of them; give them like 1-3,5")
            first, last = int(found[1]), int(found[2] or found[1])
            if first > last:
                raise CommandLineError(f"--lines {lines}: the range {first}-{last} goes backwards")
            if first < 1 or last > count:
                raise CommandLineError(f"--lines {lines}: the project has lines 1 to {count}" if count else
                                       f"--lines {lines}: the project has no lines")
            numbers.update(range(first, last + 1))
    spoken = [line.id for number, line in enumerate(dialogue.lines, 1) if number in numbers and line.spoken_text]
    if not spoken:
        raise CommandLineError("nothing to render: " + ("the project has no lines to speak" if lines is None else
                                                        f"--lines {lines} names no line with words to speak"))
    return spoken


def _export_choice(args: argparse.Namespace, chosen: list[str]) -> ExportChoice:
    """The export dialog's choice, from the flags, checked as the dialog checks it."""
    if args.per_line:
        if args.out.is_file():
            raise CommandLineError(f"--out {args.out} is a file: --per-line writes one file per line into a folder")
        if not args.out.parent.is_dir():
            raise CommandLineError(f"the folder {args.out.parent} does not exist")
        check_writable(args.out if args.out.is_dir() else args.out.parent)
        named = {"format": args.format} if args.format else {}
    else:
        named = {"format": args.format or format_from_path(args.out)}
    settings = ExportSettings.create(**named, sample_rate=args.sample_rate, bitrate=args.bitrate,
                                     channels=args.channels)
    if not args.per_line:
        output_paths(args.out, settings, 1)
    line_ids = None if args.lines is None else tuple(chosen)
    return ExportChoice(settings, args.out, args.per_line, args.subtitles, args.loudness, line_ids, args.stems)


def _generate(args: argparse.Namespace, dialogue: Dialogue, runs: list[list[str]], cancel: threading.Event) -> None:
    """Generate each run of lines in turn, as the window would, and put the takes into the document."""
    voices_in_order(dialogue)  # unusable voices are refused before the model loads
    if args.model is None:
        raise CommandLineError(needs_a_model(dialogue, runs, args.regenerate))
    report = GenerationReport(dialogue.params.number_results)
    try:
        generate_runs(load_engine(args), dialogue, runs, cancel, say, report)
    except LinesLeftOut as error:
        raise CommandLineError(str(error)) from None


def needs_a_model(dialogue: Dialogue, runs: list[list[str]], regenerate: bool = False) -> str:
    """Why the lines of ``runs`` need ``--model``, and how to go without it."""
    needed = [line_id for run in runs for line_id in run]
    it = "it" if len(needed) == 1 else "them"
    why = (f"--regenerate makes {line_numbers(rows_of(dialogue, needed))} again" if regenerate else
           f"{line_numbers(rows_of(dialogue, needed))} {'has' if len(needed) == 1 else 'have'} no current take")
    return (f"{why}: give the model to generate {it} with --model (dia2-2b, dia2-1b, a Hub id or a local folder)"
            + ("" if regenerate else f", or leave {it} out with --lines"))
