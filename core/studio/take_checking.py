"""The document's takes as the checks read them (core/take_checks), which takes need checking, and
which take checks best for each line.

A take's checks depend on the take (its audio, lines and timings never change), the speakers'
voices and names, and the checks' own version: when one of these changes, the take is checked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.dia2.events import TakeResult
from core.document.dialogue import Dialogue, speaks_as_written
from core.document.lines import DialogueLine
from core.document.script_text import spoken_script_lines
from core.document.speakers import Speaker, SpeakerProfile
from core.document.takes import Take
from core.studio.take_assembly import take_from_result
from core.take_checks.take_checker import TakeToCheck, Voice, WrittenLine, check_take
from core.take_checks.verdicts import LineReport, TakeReport, Verdict

CHECKS_VERSION = 1  # raise it when a check or a threshold changes: every take is checked again
HEARD_BY = "; heard by "  # in ``depends_on``: the Whisper model that heard the lines
VERDICT_RANK = {Verdict.GOOD: 2, Verdict.CHECK: 1, Verdict.BAD: 0}


def depends_on(speakers: Mapping[Speaker, SpeakerProfile], take: Take, heard_by: str | None = None) -> str:
    """What ``take``'s checks are made from, as one string; ``heard_by``: the Whisper model that
    heard its lines (None: the words a listener hears were not checked)."""
    voices = ",".join(f"{speaker.value}={profile.voice.audio.id if profile.voice else '-'}:{profile.name}"
                      for speaker, profile in sorted(speakers.items(), key=lambda item: item[0].value))
    made_from = f"checks {CHECKS_VERSION}; take {take.id}; {voices}"
    return made_from if heard_by is None else f"{made_from}{HEARD_BY}{heard_by}"


def to_check(take: Take, voices: Mapping[str, Voice], names: Mapping[str, str]) -> TakeToCheck:
    """The take as the checks read it, with the voices and names by speaker tag. Reads its audio
    (from the project's files, perhaps): off the GUI thread."""
    lines = tuple(WrittenLine(line.speaker.value, line.spoken_text, take.line_times.get(line.id))
                  for line in spoken_lines(take))
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


def unchecked(dialogue: Dialogue, heard_by: str | None = None) -> list[Take]:
    """The takes with no checks, or checks made from something that has changed since, newest
    first; with ``heard_by`` (a Whisper model that can hear the lines now) also those whose lines
    it has not heard."""
    return [take for take in reversed(dialogue.takes) if current_report(dialogue, take) is None or (
        heard_by is not None and dialogue.checks[take.id].depends_on != depends_on(dialogue.speakers, take, heard_by))]


def current_report(dialogue: Dialogue, take: Take) -> TakeReport | None:
    """The take's checks, unless they are missing or were made from what has changed since
    (whether Whisper heard its lines or not, and with which model)."""
    checked = dialogue.checks.get(take.id)
    made_from = depends_on(dialogue.speakers, take)
    if checked is None or checked.depends_on.partition(HEARD_BY)[0] != made_from:
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
        report = line_report(dialogue, take, line.id) if speaks_as_written(take, line) else None
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
        report = line_report(dialogue, take, line.id) if take is not None and speaks_as_written(take, line) else None
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
