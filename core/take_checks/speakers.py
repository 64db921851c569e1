"""Is each line in its own speaker's voice? Each line's voice against both speakers': their
references where given, else that speaker's other lines in the take. A line nearer the other voice
than its own by a margin is flagged, naming both similarities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from core.take_checks.line_checks import SpokenLine
from core.take_checks.speaker_encoder import SpeakerEncoder, similarity
from core.take_checks.verdicts import CheckSettings, Flag, Verdict


def speaker_flags(lines: Sequence[SpokenLine], references: Mapping[str, np.ndarray], names: Mapping[str, str],
                  encoder: SpeakerEncoder, settings: CheckSettings) -> tuple[dict[int, list[Flag]], set[int], list[str]]:
    """Flags by line number, the numbers of lines that could not be checked, and notices for the take.
    ``references``: an embedding per speaker tag that has a voice reference."""
    notices = []
    if len(references) == 2:
        first, second = references.values()
        alike = similarity(first, second)
        if alike >= settings.voices_too_alike:
            notices.append(f"The two voices are too alike to tell apart ({alike:.2f}): speakers were not checked.")
            return {}, {line.number for line in lines}, notices
    judged = [line for line in lines if len(line.samples) / line.sample_rate >= settings.speaker_min_s]
    voices = {line.number: encoder.embed(line.samples, line.sample_rate) for line in judged}
    flags: dict[int, list[Flag]] = {}
    unchecked = {line.number for line in lines} - set(voices)
    speakers = sorted({line.speaker for line in lines} | set(references))
    for line in judged:
        others = [tag for tag in speakers if tag != line.speaker]
        own = _voice_of(line.speaker, line.number, judged, voices, references)
        if own is None or not others:
            unchecked.add(line.number)
            continue
        other_tag = others[0]
        other = _voice_of(other_tag, line.number, judged, voices, references)
        if other is None:
            unchecked.add(line.number)
            continue
        to_own, to_other = similarity(voices[line.number], own), similarity(voices[line.number], other)
        if to_other - to_own > settings.speaker_margin:
            flags[line.number] = [Flag(
                "speaker", f"sounds like {_named(other_tag, names)}: {to_own:.2f} to {names.get(line.speaker, line.speaker)}, "
                f"{to_other:.2f} to {names.get(other_tag, other_tag)}", Verdict.BAD, line.start_s)]
    return flags, unchecked, notices


def _voice_of(tag: str, leaving_out: int, lines: Sequence[SpokenLine], voices: Mapping[int, np.ndarray],
              references: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """A speaker's voice: the reference, else the mean of their other lines in the take."""
    if tag in references:
        return references[tag]
    theirs = [voices[line.number] for line in lines if line.speaker == tag and line.number != leaving_out]
    if not theirs:
        return None
    mean = np.mean(theirs, axis=0)
    return mean / np.linalg.norm(mean)


def _named(tag: str, names: Mapping[str, str]) -> str:
    name = names.get(tag)
    return f"{name} ({tag})" if name and name != tag else tag
