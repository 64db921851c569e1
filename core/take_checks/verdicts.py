"""What the checks say of a take: flags on its lines, each line's verdict, the take's score, and
the thresholds they are judged by."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from core.errors import DiaStudioError

FLAG_KINDS = ("speaker", "missing_words", "misheard_words", "silence", "overrun", "pace", "clipping", "quiet")


class Verdict(str, Enum):
    GOOD = "good"
    CHECK = "check"  # worth a listen
    BAD = "bad"  # remake it


@dataclass(frozen=True)
class Flag:
    kind: str  # one of FLAG_KINDS
    detail: str  # in plain words, quoting what is wrong
    severity: Verdict  # CHECK or BAD
    at_s: float | None = None  # where in the take to listen


@dataclass(frozen=True)
class LineReport:
    number: int  # as the person counts the lines: 1 is the first
    speaker: str  # "S1", "S2"
    span: tuple[float, float] | None  # where the take speaks it; None: the take ends before it
    flags: tuple[Flag, ...] = ()
    not_checked: tuple[str, ...] = ()  # flag kinds that could not be checked, never counted as passed

    @property
    def verdict(self) -> Verdict:
        if any(flag.severity is Verdict.BAD for flag in self.flags):
            return Verdict.BAD
        return Verdict.CHECK if self.flags else Verdict.GOOD

    def as_json(self) -> dict:
        return {"line": self.number, "speaker": self.speaker, "verdict": self.verdict.value,
                "start": None if self.span is None else round(self.span[0], 3),
                "end": None if self.span is None else round(self.span[1], 3),
                "flags": [{"kind": flag.kind, "detail": flag.detail, "severity": flag.severity.value,
                           "at": None if flag.at_s is None else round(flag.at_s, 3)} for flag in self.flags],
                "notChecked": list(self.not_checked)}


LINE_SCORES = {Verdict.GOOD: 1.0, Verdict.CHECK: 0.6, Verdict.BAD: 0.0}


@dataclass(frozen=True)
class TakeReport:
    lines: tuple[LineReport, ...]
    notices: tuple[str, ...] = ()  # about the take as a whole ("the two voices are too alike …")

    @property
    def score(self) -> int:
        """0–100: a good line counts 1, one worth a listen 0.6, a bad one 0; ranks takes best first."""
        if not self.lines:
            return 0
        return round(100 * sum(LINE_SCORES[line.verdict] for line in self.lines) / len(self.lines))

    @property
    def flagged(self) -> tuple[LineReport, ...]:
        return tuple(line for line in self.lines if line.flags)

    def as_json(self) -> dict:
        return {"score": self.score, "lines": [line.as_json() for line in self.lines], "notices": list(self.notices)}


@dataclass(frozen=True)
class CheckSettings:
    """The thresholds, calibrated on espeak-ng speech (docs/take-checks.md); a person may set
    them (``tuned``), each within its range in ``THRESHOLDS``."""

    speaker_margin: float = 0.05  # a line this much nearer the other voice than its own is flagged
    voices_too_alike: float = 0.85  # references at least this similar cannot be told apart
    speaker_min_s: float = 0.8  # shorter lines are too short to judge a voice by
    misheard_check_rate: float = 0.15  # word error rate worth a listen
    misheard_bad_rate: float = 0.4  # word error rate to remake
    silence_s: float = 0.9  # a silence inside a line longer than this (plus a written pause) is flagged
    silence_bad_s: float = 2.0  # … and this much longer is bad
    overrun_s: float = 1.5  # speech this long after the last word's expected end is flagged
    pace_ratio: float = 1.8  # a line this many times slower (or faster) than the take's pace
    clipped_share: float = 0.001  # share of a line's samples at full scale
    quiet_dbfs: float = -40.0  # a line's speech quieter than this …
    quiet_below_take_db: float = 18.0  # … or this far below the take's other lines
    silent_below_peak_db: float = 35.0  # a 10 ms frame this far below the line's loudest is silence


@dataclass(frozen=True)
class Threshold:
    """How a person sees and sets one of ``CheckSettings``' thresholds."""

    label: str
    minimum: float
    maximum: float
    unit: str = ""


THRESHOLDS = {
    "speaker_margin": Threshold("A line nearer the other voice than its own by", 0.0, 0.5),
    "voices_too_alike": Threshold("Voices this alike are not told apart", 0.5, 1.0),
    "speaker_min_s": Threshold("Lines shorter than this are not judged by voice", 0.0, 10.0, "s"),
    "misheard_check_rate": Threshold("Word error rate worth a listen", 0.0, 1.0),
    "misheard_bad_rate": Threshold("Word error rate to remake", 0.0, 1.0),
    "silence_s": Threshold("Silence inside a line (besides written pauses)", 0.1, 10.0, "s"),
    "silence_bad_s": Threshold("… bad when longer still by", 0.0, 30.0, "s"),
    "overrun_s": Threshold("Sound after the last word", 0.1, 30.0, "s"),
    "pace_ratio": Threshold("Pace this many times the take's", 1.1, 10.0, "×"),
    "clipped_share": Threshold("Share of samples at full scale", 0.0, 0.1),
    "quiet_dbfs": Threshold("A line's speech quieter than", -90.0, 0.0, "dBFS"),
    "quiet_below_take_db": Threshold("… or below the take's other lines by", 1.0, 60.0, "dB"),
    "silent_below_peak_db": Threshold("Silence is this far below the line's loudest", 10.0, 80.0, "dB"),
}


class InvalidThreshold(DiaStudioError, ValueError):
    """A threshold the checks do not have, or a value out of its range."""


def tuned(values: Mapping[str, object]) -> CheckSettings:
    """The default thresholds with ``values`` (by name) in their place; each one checked."""
    for name, value in values.items():
        threshold = THRESHOLDS.get(name)
        if threshold is None:
            raise InvalidThreshold(f"The checks have no threshold {name!r}; they have: {', '.join(THRESHOLDS)}.")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not threshold.minimum <= value <= threshold.maximum:
            raise InvalidThreshold(f"{name} must be a number from {threshold.minimum:g} to "
                                   f"{threshold.maximum:g}{' ' + threshold.unit if threshold.unit else ''}, "
                                   f"not {value!r}.")
    settings = replace(CheckSettings(), **{name: float(value) for name, value in values.items()})
    if settings.misheard_bad_rate < settings.misheard_check_rate:
        raise InvalidThreshold("misheard_bad_rate must be at least misheard_check_rate.")
    return settings


def tuning(settings: CheckSettings) -> dict[str, float]:
    """The thresholds of ``settings`` that differ from the defaults, by name."""
    defaults = CheckSettings()
    return {name: getattr(settings, name) for name in THRESHOLDS if getattr(settings, name) != getattr(defaults, name)}


def report_from_json(data: dict) -> TakeReport:
    """A report as ``TakeReport.as_json`` wrote it (a project's); raises ValueError, KeyError or
    TypeError when it is not one."""
    lines = []
    for line in data["lines"]:
        span = None if line["start"] is None else (float(line["start"]), float(line["end"]))
        flags = tuple(Flag(_kind(flag["kind"]), str(flag["detail"]), Verdict(flag["severity"]),
                           None if flag["at"] is None else float(flag["at"])) for flag in line["flags"])
        lines.append(LineReport(int(line["line"]), str(line["speaker"]), span, flags,
                                tuple(_kind(kind) for kind in line["notChecked"])))
    return TakeReport(tuple(lines), tuple(str(notice) for notice in data["notices"]))


def _kind(kind: object) -> str:
    if kind not in FLAG_KINDS:
        raise ValueError(f"{kind!r} is not a kind of flag")
    return kind


@dataclass(frozen=True)
class CheckedTake:
    """A take's report, with what it was made from (the take, the voices, the checks' version):
    made again when that changes."""

    depends_on: str
    report: TakeReport
