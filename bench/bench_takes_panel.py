"""How long the takes panel spends on each keystroke typed into a line, with many takes.

    python bench/bench_takes_panel.py [--lines 20] [--takes 200] [--edits 60]

The real panel is shown offscreen, and a line is typed in one character at a time through
Dialogue.enter_text, as the line editor does; a second case keeps one take, then another, for
that line, which changes two items' descriptions. Timed per edit: what the panel does for the
change, and the layout and painting that this leaves for the event loop. Baseline: the full
rebuild (TakesPanel._fill) that the panel did for every change of the lines or takes before;
new: the panel's own answer to the change (for typing nothing: it shows no line's text; for
keeping, the items updated in place). The old code also re-emitted selected_take_changed at
each edit, which made the window redraw the waveform; that is not counted here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from core.document.clips import AudioClip  # noqa: E402
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams  # noqa: E402
from ui.takes import TakesPanel  # noqa: E402

RATE = 24000
TYPED = " and then, after a while, a few more words"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return f"{cpu}, {os.cpu_count()} CPU cores; {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def dialogue_with_takes(line_count: int, take_count: int) -> Dialogue:
    """Every tenth take speaks the whole dialogue; the others make one line, or three, again."""
    lines = [DialogueLine(Speaker.S1 if row % 2 == 0 else Speaker.S2, f"Line {row + 1} says something.")
             for row in range(line_count)]
    audio = AudioClip.from_samples(np.zeros(RATE, np.float32), RATE)
    takes = []
    for number in range(take_count):
        first = number % line_count
        spoken = lines if number % 10 == 0 else lines[first:first + 1 + 2 * (number % 3 == 1)]
        times = {line.id: (i / len(spoken), (i + 1) / len(spoken)) for i, line in enumerate(spoken)}
        takes.append(Take(GenerationParams(seed=number + 1), audio, spoken, line_times=times))
    return Dialogue(lines, takes=takes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--takes", type=int, default=200)
    parser.add_argument("--edits", type=int, default=60, help="timed edits per way and case (after 5 to warm up)")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    dialogue = dialogue_with_takes(args.lines, args.takes)
    # Listeners run in the order they subscribed: these two stopwatch the panel's own listener.
    started = [0.0]
    in_panel: list[float] = []
    dialogue.subscribe(lambda change: started.__setitem__(0, time.perf_counter()))
    panel = TakesPanel()
    panel.set_dialogue(dialogue)
    dialogue.subscribe(lambda change: in_panel.append(time.perf_counter() - started[0]))
    panel.resize(380, 900)
    panel.show()
    panel.select_take(dialogue.takes[len(dialogue.takes) // 2].id)  # the person looks at one take
    app.processEvents()
    emitted = []
    panel.selected_take_changed.connect(emitted.append)
    line = dialogue.lines[len(dialogue.lines) // 2]
    typed = iter(TYPED * (4 * args.edits // len(TYPED) + 2))
    speaking = [take for take in dialogue.takes if take.source_line(line.id) is not None][-2:]
    kept = iter(range(4 * args.edits + 20))

    def keystroke() -> None:
        text = dialogue.line(line.id).text + next(typed)
        dialogue.enter_text(line.id, text, len(text))

    def keep() -> None:  # the line's last two takes in turn: two items change their marks
        dialogue.keep_take(speaking[next(kept) % 2].id, [line.id])

    def settle() -> float:
        """The layout and painting left for the event loop, in seconds."""
        start = time.perf_counter()
        app.processEvents()
        return time.perf_counter() - start

    def rebuilt(edit) -> float:
        edit()
        start = time.perf_counter()
        panel._fill()  # the old answer to every change of the lines or takes
        return time.perf_counter() - start + settle()

    def answered(edit) -> float:
        edit()
        return in_panel[-1] + settle()

    print(f"Machine: {machine()}")
    print("Load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"Takes panel, {args.lines} lines, {args.takes} takes, {args.edits} edits of line "
          f"{dialogue.index_of(line.id) + 1} per case, Qt platform {app.platformName()}; ms per edit:")
    print(f"{'case':<32}{'baseline mean':>14}{'median':>8}{'new mean':>10}{'median':>8}{'ratio':>9}")
    for case, edit in (("typing (a keystroke)", keystroke), ("keeping a take (in place)", keep)):
        figures = []
        for way in (rebuilt, answered):
            for _ in range(5):
                way(edit)
            emitted.clear()
            times = [1000 * way(edit) for _ in range(args.edits)]
            figures += [statistics.mean(times), statistics.median(times)]
        print(f"{case:<32}{figures[0]:>14.2f}{figures[1]:>8.2f}{figures[2]:>10.2f}{figures[3]:>8.2f}"
              f"{figures[0] / figures[2]:>8.1f}x")
        print(f"  selected_take_changed emitted the new way: {len(emitted)} times in {args.edits} edits")
    print("(The old code emitted selected_take_changed once an edit, and the window redrew the waveform.)")


if __name__ == "__main__":
    main()
