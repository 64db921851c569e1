"""A finished (or cancelled) take from an engine → a ``Take`` of the document, with each line's
place in the audio worked out from the word timings.

The Dia2 runtime times every word of the script in order (it splits words the way its script parser
does: on whitespace and pause tags, colons counting as spaces), so the first word of each line marks
where that line begins; a line ends where the next one begins, the last at the end of the audio.

A cancelled take speaks only the lines it finished: those after which the next word has begun
within the audio made (a word is timed when the model takes it, before its sound is out, so the
last line a cancelled take reached may be cut off or not be heard at all).

Lines read respelled by a lexicon are timed as the model read them: their words are mapped back
onto the written words first, so the take's words are the ones written.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.dia2.events import TakeResult
from core.dia2.script import spoken_words
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.lines import DialogueLine
from core.document.takes import Take
from core.lexicon.respelling import Respelling
from core.studio.lexicon_use import written_result


def take_from_result(result: TakeResult, lines: Sequence[DialogueLine],
                     respellings: Sequence[Respelling] = ()) -> Take | None:
    """The document's take, or None when nothing was made. A cancelled take has only the lines
    it finished. ``respellings``: how the model read each line with words (one for each, in
    order), where a lexicon was used; the take keeps what it read of the lines it speaks."""
    if not len(result.audio):
        return None
    lines = [line for line in lines if line.spoken_text]
    if respellings:
        if len(respellings) != len(lines):
            raise ValueError(f"{len(respellings)} respellings for {len(lines)} lines with words.")
        result = written_result(result, respellings)
    duration = len(result.audio) / result.sample_rate
    starts = [word_start for _, word_start in result.words]
    counts = [len(spoken_words(line.spoken_text)) for line in lines]
    # With the voice clips kept, their words come first: they are not the script's.
    extra = len(starts) - sum(counts)
    if result.complete and extra > 0:
        starts = starts[extra:]
    first_word, line_starts, spoken = 0, [], []
    for line, count in zip(lines, counts):
        after = first_word + count  # the first word of the next line
        finished = after <= len(starts) if result.complete else (
            after < len(starts) and starts[after] <= duration)
        if not finished:
            break
        line_starts.append(starts[first_word] if count else None)
        spoken.append(line)
        first_word = after
    line_starts = _fill_wordless(line_starts, starts[first_word] if first_word < len(starts) else duration)
    line_times = {}
    for index, line in enumerate(spoken):
        start = 0.0 if index == 0 else line_starts[index]
        end = line_starts[index + 1] if index + 1 < len(spoken) else (
            duration if result.complete else starts[first_word])
        line_times[line.id] = (start, max(start, min(end, duration)))
    # A word lasts until the next one starts (the Dia2 runtime reports starts only).
    ends = [start for _, start in result.words[1:]] + [duration]
    words = [TimedWord(word, start, max(start, min(end, duration))) for (word, start), end in zip(result.words, ends)]
    respelled = {line.id: respelling.spoken for line, respelling in zip(lines, respellings)
                 if respelling.changed and line.id in line_times}
    return Take(params=result.params, audio=AudioClip.from_samples(result.audio, result.sample_rate),
                source_lines=tuple(spoken), words=words, line_times=line_times, codes=result.codes,
                model=result.model, respelled=respelled)


def _fill_wordless(starts: list[float | None], after_last: float) -> list[float]:
    """A line of nothing but a pause has no word to mark it: it starts where the next line does."""
    filled: list[float] = []
    following = after_last
    for start in reversed(starts):
        following = start if start is not None else following
        filled.append(following)
    return list(reversed(filled))
