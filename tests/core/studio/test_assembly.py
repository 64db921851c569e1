"""The dialogue's audio assembled from pieces of takes: each take's audio is read once."""

import numpy as np

from core.document.clips import AudioClip
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.studio.exporting import Segment, assembled

RATE = 1000


def counted_take(value: float, reads: list) -> Take:
    samples = np.full(3 * RATE, value, np.float32)
    samples[RATE:2 * RATE] = -value  # the middle second differs, to check the cuts

    def load():
        reads.append(value)
        return samples

    lines = [DialogueLine(Speaker.S1, f"line {i}") for i in range(3)]
    return Take(GenerationParams(seed=1), AudioClip(RATE, len(samples), load), lines,
                line_times={line.id: (i, i + 1) for i, line in enumerate(lines)})


def test_pieces_of_one_take_are_cut_from_one_read_of_its_audio():
    reads = []
    first, second = counted_take(0.5, reads), counted_take(0.25, reads)
    pieces = [Segment(first, first.source_lines[:1], 0.0, 1.0), Segment(second, second.source_lines[1:2], 1.0, 2.0),
              Segment(first, first.source_lines[2:], 2.0, 3.0)]
    audio = assembled(pieces)
    assert sorted(reads) == [0.25, 0.5]  # one read per take, not per piece
    np.testing.assert_array_equal(audio, np.repeat(np.float32([0.5, -0.25, 0.5]), RATE))
