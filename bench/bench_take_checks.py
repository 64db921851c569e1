"""How long checking one minute of a take takes on one processor core, Whisper apart; and what
checking a take beside a generation costs that generation.

    python bench/bench_take_checks.py [--minutes 1] [--repeat 3] [--generations 5]

The take is the tests' espeak-ng dialogue (tests/fixtures/dialogue) repeated to the length asked,
at the model's 24 kHz, with its word timings, both voice references and the speaker check on.
Printed: the checks without the speaker encoder (words, silences, run-on, pace, clipping, level),
the speaker check's share, the whole, and the whole per minute of audio against the goal (2 s per
minute on one core). torch runs on one thread; the encoder's first load is timed apart. CPU
seconds are shown beside wall-clock ones: a busy machine (load average printed first) stretches
only the latter.

Beside a generation: the tiny checkpoint generates a two-line script in the studio's own process
(the in-process engine, torch on the machine's default threads), alone and then with one take
checked on another thread as it starts, as the studio checks the take before it; the generations
alternate, and the medians and their ratio are printed (goal: under 5 % more).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_export import machine  # noqa: E402
from core.audio import MODEL_SAMPLE_RATE  # noqa: E402
from core.audio.processing import resample  # noqa: E402
from core.dia2.transcript_alignment import TimedWord  # noqa: E402
from core.take_checks.speaker_encoder import LstmVoiceEncoder  # noqa: E402
from core.take_checks.take_checker import TakeToCheck, Voice, WrittenLine, check_take  # noqa: E402
from tests.core.take_checks import dialogue  # noqa: E402

GOAL_S_PER_MINUTE = 2.0
TINY_CHECKPOINT = ROOT / "tests" / "fixtures" / "dia2_parity" / "checkpoint"
SCRIPT = "[S1] Hello there, how are you today? [S2] Fine, thanks, and you?"


def long_take(minutes: float) -> TakeToCheck:
    """The dialogue repeated to ``minutes``, resampled to the model's rate."""
    one = dialogue.take_of(dialogue.clean_parts())
    length = len(one.samples) / one.sample_rate
    rounds = int(np.ceil(minutes * 60 / length))
    lines, words = [], []
    for round_ in range(rounds):
        shift = round_ * length
        lines += [WrittenLine(line.speaker, line.text, (line.span[0] + shift, line.span[1] + shift))
                  for line in one.lines]
        words += [TimedWord(word.text, word.start_s + shift, word.end_s + shift) for word in one.words]
    samples = resample(np.tile(one.samples, rounds), one.sample_rate, MODEL_SAMPLE_RATE)
    voices = {tag: Voice(resample(voice.samples, voice.sample_rate, MODEL_SAMPLE_RATE), MODEL_SAMPLE_RATE)
              for tag, voice in one.voices.items()}
    return TakeToCheck(samples, MODEL_SAMPLE_RATE, tuple(lines), tuple(words), voices, one.names)


def timed(run, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``run()``."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def beside_a_generation(take: TakeToCheck, encoder: LstmVoiceEncoder, generations: int) -> None:
    import threading

    from core.dia2.events import GenerationRequest
    from core.engine.in_process import InProcessEngine
    from core.params import GenerationParams

    engine = InProcessEngine()
    engine.load(str(TINY_CHECKPOINT), device="cpu")
    request = GenerationRequest(SCRIPT, GenerationParams(seed=3))

    def generation(with_check: bool) -> float:
        checker = threading.Thread(target=lambda: check_take(take, encoder=encoder)) if with_check else None
        started = time.perf_counter()
        if checker:
            checker.start()
        for _ in engine.generate(request, threading.Event()):
            pass
        elapsed = time.perf_counter() - started
        if checker:
            checker.join()
        return elapsed

    generation(False)  # warm-up
    alone, beside = [], []
    for _ in range(generations):
        alone.append(generation(False))
        beside.append(generation(True))
    alone_s, beside_s = statistics.median(alone), statistics.median(beside)
    print(f"generation of the tiny checkpoint, alone: {alone_s:.2f} s; with a {take_minutes(take):.2f}-minute take "
          f"checked beside it: {beside_s:.2f} s ({beside_s / alone_s:.2f}×; goal under 1.05×)")
    engine.close()


def take_minutes(take: TakeToCheck) -> float:
    return len(take.samples) / take.sample_rate / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--generations", type=int, default=5)
    args = parser.parse_args()
    import torch

    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; torch threads: 1")
    take = long_take(args.minutes)
    minutes = take_minutes(take)
    print(f"take: {minutes:.2f} min, {len(take.lines)} lines, 24 kHz")
    encoder = LstmVoiceEncoder()
    wall, cpu = timed(lambda: encoder.embed(take.voices["S1"].samples, MODEL_SAMPLE_RATE), 1)
    print(f"speaker encoder, first use (loads its weights): {wall:.2f} s wall, {cpu:.2f} s CPU")
    without = timed(lambda: check_take(take), args.repeat)
    whole = timed(lambda: check_take(take, encoder=encoder), args.repeat)
    print(f"{'':34}{'wall s':>9}{'CPU s':>9}{'CPU s/min':>11}")
    rows = [("checks without the speaker check", without), ("speaker check (the difference)",
            (whole[0] - without[0], whole[1] - without[1])), ("all checks (Whisper apart)", whole)]
    for name, (wall, cpu) in rows:
        print(f"{name:34}{wall:9.2f}{cpu:9.2f}{cpu / minutes:11.2f}")
    per_minute = whole[1] / minutes
    print(f"all checks: {per_minute:.2f} CPU s per minute of audio; goal {GOAL_S_PER_MINUTE:.1f}: "
          f"{per_minute / GOAL_S_PER_MINUTE:.2f}× the goal ({'within' if per_minute <= GOAL_S_PER_MINUTE else 'over'})")
    torch.set_num_threads(default_threads)
    beside_a_generation(long_take(0.25), encoder, args.generations)  # one round: the four lines


if __name__ == "__main__":
    main()
