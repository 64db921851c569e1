"""The document's takes as the checks read them (core/take_checks), which takes need checking, and
which take checks best for each line.

A take's checks depend on the take (its audio, lines and timings never change), the speakers'
voices and names, and the checks' own version: when one of these changes, the take is checked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.dia2.events import TakeResult
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.script_text import spoken_script_lines
from core.document.speakers import Speaker, SpeakerProfile
from core.document.takes import Take
from core.studio.take_assembly import take_from_result
from core.take_checks.take_checker import TakeToCheck, Voice, WrittenLine, check_take
from core.take_checks.verdicts import CheckSettings, LineReport, TakeReport, Verdict, tuning

CHECKS_VERSION = 1  # raise it when a check or a default threshold changes: every take is checked again
TUNED = "; thresholds "  # in ``depends_on``: thresholds set apart from the defaults
HEARD_BY = "; heard by "  # in ``depends_on``: the Whisper model that heard the lines
VERDICT_RANK = {Verdict.GOOD: 2, Verdict.CHECK: 1, Verdict.BAD: 0}


def depends_on(speakers: Mapping[Speaker, SpeakerProfile], take: Take, heard_by: str | None = None,
               settings: CheckSettings = CheckSettings()) -> str:
    """What ``take``'s checks are made from, as one string: the take, the voices and the checks'
    version, then the thresholds set apart from the defaults and ``heard_by``, the Whisper model
    that heard its lines (None: the words a listener hears were not checked)."""
    voices = ",".join(f"{speaker.value}={profile.voice.audio.id if profile.voice else '-'}:{profile.name}"
                      for speaker, profile in sorted(speakers.items(), key=lambda item: item[0].value))
    tuned = ",".join(f"{name}={value:g}" for name, value in tuning(settings).items())
    return (f"checks {CHECKS_VERSION}; take {take.id}; {voices}" + (f"{TUNED}{tuned}" if tuned else "")
            + (f"{HEARD_BY}{heard_by}" if heard_by else ""))


def made_from(depends_on: str) -> str:
    """The part of ``depends_on`` without which a take's checks are not its checks any more."""
    return depends_on.partition(TUNED)[0].partition(HEARD_BY)[0]


def to_check(take: Take, voices: Mapping[str, Voice], names: Mapping[str, str]) -> TakeToCheck:
    """The take as the checks read it, with the voices and names by speaker tag. Reads its audio
    (from the project's files, perhaps): off the GUI thread."""
    # The take's words are the written ones (mapped back from the respelling); what Whisper hears
    # is compared with what the model read.
    lines = tuple(WrittenLine(line.speaker.value, line.spoken_text, take.line_times.get(line.id),
                              take.respelled.get(line.id)) for line in spoken_lines(take))
    # Takes saved before word timings were kept have none: those checks say "not checked".
    words = take.words or None
    return TakeToCheck(take.audio.samples(), take.audio.sample_rate, lines, words, voices, names)


def document_voices(speakers: Mapping[Speaker, SpeakerProfile]) -> tuple[dict[str, Voice], dict[str, str]]:
    """The speakers' voices (read from the project's files, perhaps: off the GUI thread) and names,
    by tag, as ``to_check`` takes them."""
    voices = {speaker.value: Voice(profile.voice.audio.samples(), profile.voice.audio.sample_rate)
              for speaker, profile in speakers.items() if profile.voice is not None}
    return voices, {speaker.value: profile.name for speaker, profile in speakers.items()}


def spoken_lines(take: Take) -> list:
    """The lines a take was made from that have words to speak, in order: its report's lines."""
    return [line for line in take.source_lines if line.spoken_text]


def unchecked(dialogue: Dialogue, heard_by: str | None = None,
              settings: CheckSettings = CheckSettings()) -> list[Take]:
    """The takes to check, newest first: those with no checks, or checks made from what has
    changed since, or with other thresholds than ``settings``; with ``heard_by`` (a Whisper model
    that can hear the lines now) also those whose lines it has not heard."""
    todo = []
    for take in reversed(dialogue.takes):
        checked = dialogue.checks.get(take.id)
        wanted = depends_on(dialogue.speakers, take, heard_by, settings)
        if checked is None or checked.depends_on.partition(HEARD_BY)[0] != wanted.partition(HEARD_BY)[0] or (
                heard_by is not None and checked.depends_on != wanted):
            todo.append(take)
    return todo


def current_report(dialogue: Dialogue, take: Take) -> TakeReport | None:
    """The take's checks, unless they are missing or were made from what has changed since (the
    thresholds and whether Whisper heard the lines aside: the checks are still the take's)."""
    checked = dialogue.checks.get(take.id)
    if checked is None or made_from(checked.depends_on) != made_from(depends_on(dialogue.speakers, take)):
        return None
    return checked.report


def line_report(dialogue: Dialogue, take: Take, line_id: str) -> LineReport | None:
    """The take's checks of one line; None while unchecked, or when the take does not speak it."""
    report = current_report(dialogue, take)
    if report is None:
        return None
    for line, checked in zip(spoken_lines(take), report.lines):
        if line.id == line_id:
            return checked
    return None


def best_take_for(dialogue: Dialogue, line: DialogueLine) -> tuple[str, LineReport] | None:
    """The take that checks best for ``line`` among those made from its text as it reads now, with
    its report of the line: the best verdict for that line, then the best score for the take, then
    the take kept now (no change for nothing), then the newest. None while no such take is checked."""
    ranked = []
    for order, take in enumerate(dialogue.takes):
        report = line_report(dialogue, take, line.id) if dialogue.speaks_as_written(take, line) else None
        if report is not None:
            kept = dialogue.kept_takes.get(line.id) == take.id
            rank = (VERDICT_RANK[report.verdict], current_report(dialogue, take).score, kept, order)
            ranked.append((rank, take.id, report))
    if not ranked:
        return None
    _, take_id, report = max(ranked, key=lambda item: item[0])
    return take_id, report


def best_takes(dialogue: Dialogue) -> dict[str, str]:
    """For each line with a checked take made from its text as it reads now, the best one."""
    best = {line.id: best_take_for(dialogue, line) for line in dialogue.lines}
    return {line_id: found[0] for line_id, found in best.items() if found is not None}


def flagged_lines(dialogue: Dialogue) -> list[str]:
    """The lines whose kept take's checks flag them (a line changed since its take is not its
    take's any more: it needs making again whatever the checks said)."""
    flagged = []
    for line in dialogue.lines:
        take = dialogue.take_for(line.id)
        report = (line_report(dialogue, take, line.id)
                  if take is not None and dialogue.speaks_as_written(take, line) else None)
        if report is not None and report.flags:
            flagged.append(line.id)
    return flagged


def best_result(script: str, results: Sequence[TakeResult], voices: Mapping[str, Voice],
                encoder) -> tuple[TakeResult | None, list[tuple[TakeResult, TakeReport]]]:
    """Of the finished takes of one script, the one that checks best (the highest score, the first
    among equals), and each finished take with its checks."""
    lines = spoken_script_lines(script)
    checked = []
    for result in results:
        take = take_from_result(result, lines) if result.complete else None
        if take is not None:
            checked.append((result, check_take(to_check(take, voices, {}), encoder=encoder)))
    best = max(checked, key=lambda item: (item[1].score, -item[0].take), default=(None, None))[0]
    return best, checked
