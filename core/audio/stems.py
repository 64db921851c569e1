"""A mix split into one track per speaker ("stems"), for editors who mix dialogue in a DAW.

Every sample of the mix goes to exactly one stem, so the stems add up to the mix exactly: in
float, and in a lossless file at the model's rate. Which stem a sample goes to:

- a line owns the samples from where it begins until the next line begins, so the pause after a
  line (a gap between line spans) is its speaker's;
- a line that begins before the one before it ends (an overlap) takes over from its beginning;
- samples before the first line are the first line's speaker's.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

from core.errors import InvalidParameter

Speaker = TypeVar("Speaker", bound=Hashable)


def split_by_speaker(mix: np.ndarray, line_starts: Sequence[tuple[int, Speaker]],
                     speakers: Sequence[Speaker] = ()) -> dict[Speaker, np.ndarray]:
    """One array per speaker, each as long as ``mix``: the mix where that speaker's lines are, zero
    elsewhere; they sum to ``mix`` exactly.

    ``line_starts``: (the sample where a line begins, who speaks it), in any order; two lines that
    begin at one sample: the later given wins. ``speakers``: these get a stem even when no line is
    theirs (a silent one), so that the files a render writes are known before it renders. The
    stems come in the order of ``speakers``, then of the speakers' first lines given.
    """
    if not line_starts:
        raise InvalidParameter("line starts", [], "at least one line, to tell whose the audio is")
    mix = np.asarray(mix)
    stems = {speaker: np.zeros_like(mix) for speaker in dict.fromkeys([*speakers, *(s for _, s in line_starts)])}
    ordered = sorted(line_starts, key=lambda start: start[0])  # stable: equal starts keep their order
    ends = [start for start, _ in ordered[1:]] + [len(mix)]
    for number, ((start, speaker), end) in enumerate(zip(ordered, ends)):
        begin = 0 if number == 0 else min(max(start, 0), len(mix))
        end = min(max(end, 0), len(mix))
        stems[speaker][begin:end] = mix[begin:end]
    return stems
