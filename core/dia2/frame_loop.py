"""The frame-by-frame loop of one Dia2 generation: backbone, action, text state machine,
codebook 0, depformer stages, written into the delayed token grid.

Row 0 of the batch is conditioned on the script; row 1 is the guidance branch, conditioned on
nothing (text zero/pad) or on a negative prompt. Both rows always run, as in the reference,
so the caches and hence the tokens are the same whether guidance is on or off.

A ``FrameNetwork`` does a frame's work and choices (eager, or replayed CUDA graphs); this loop
owns what lies between frames: the text state machine and the token grid.

The script's entries may arrive while the loop runs (``add_text``, then ``end_text``): a step
whose word has not arrived returns None and is finished by a later call, so every step is the
one the whole script would give.

The delays make the first frames' audio tokens useless: codebook c's column t + 1 (written at
step t) is never read (step t + 1 reads BOS below the delay) nor output (frame 0 is column
delay[c]) while t + 1 < delay[c]. Those samples and the depformer stages that make them are
skipped (``skip_discarded``), and their random numbers drawn all the same, so every later token,
greedy or sampled, is the one the full work gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from core.dia2.config import Dia2Config
from core.dia2.frame_network import FrameNetwork
from core.dia2.prefix import Prefix
from core.dia2.sampling import Sampling
from core.dia2.script import Entry
from core.dia2.state_machine import ACTION_NEW_WORD, ACTION_PAD, MAX_PADDING, TextStateMachine, TextStep


UNKNOWN_TOKEN = -1  # stands for a text token not known yet (``reusable_steps``)


@dataclass
class StepRecord:
    """What one generation step decided (kept for word timing, parity checks and debugging)."""

    t: int
    action: int
    text: TextStep
    inputs: torch.Tensor  # [2, channels] the backbone read at this step


@dataclass
class LoopState:
    start_step: int
    end_step: int | None = None
    last_step: int = -1
    consumed: list[tuple[Entry, int]] = field(default_factory=list)  # (entry, step) in order


class FrameLoop:
    def __init__(self, network: FrameNetwork, entries: list[Entry], sampling: Sampling, generator: torch.Generator,
                 *, text_bos: int, prefix: Prefix | None = None, negative_entries: list[Entry] | None = None,
                 text_complete: bool = True, skip_discarded: bool = True):
        """``network`` must not be in use by another loop (hold its lock while this one runs).
        ``text_complete`` False: more entries will come (``add_text``) until ``end_text``."""
        self.network = network
        self.config: Dia2Config = network.config
        data = self.config.data
        self.sampling = sampling
        self.generator = generator
        self.delays = torch.tensor(data.delay_pattern)
        self.max_steps = self.config.max_context_steps  # positions the model was trained on
        prefix_frames = prefix.frames if prefix else 0
        # Columns: every step writes column t+1; the flush after the end adds max_delay + padding.
        columns = self.max_steps + 2
        self.grid = torch.full((data.num_codebooks, columns), data.audio_pad, dtype=torch.long)
        self.machine = TextStateMachine((prefix.entries if prefix else []) + entries, pad=data.text_pad,
                                        new_word=data.text_new_word, lookahead=data.second_stream_ahead,
                                        text_complete=text_complete)
        self.negative = (TextStateMachine(negative_entries, pad=data.text_pad, new_word=data.text_new_word,
                                          lookahead=data.second_stream_ahead) if negative_entries else None)
        self.text = [text_bos, data.text_pad]
        self.guidance_text = [data.text_zero, data.text_pad]
        network.reset()
        self.state = LoopState(start_step=max(prefix_frames - 1, 0))
        self.records: list[StepRecord] = []
        self.skip_discarded = skip_discarded
        self.warmup_inputs: torch.Tensor | None = None
        self.prefix = prefix
        self._warmup_steps: list[torch.Tensor] | None = None
        # The pending step's inputs and choices, while it waits for its word.
        self._decided: tuple[torch.Tensor, torch.Tensor] | None = None
        if prefix:
            self._start_warm_up(prefix)

    # ---- inputs -------------------------------------------------------------------------------
    def _audio_inputs(self, t: int) -> torch.Tensor:
        column = self.grid[:, t]
        return torch.where(t < self.delays, torch.full_like(column, self.config.data.audio_bos), column)

    def _inputs(self, t: int) -> torch.Tensor:
        audio = self._audio_inputs(t)
        rows = [torch.cat([torch.tensor(text), audio]) for text in (self.text, self.guidance_text)]
        return torch.stack(rows)

    # ---- prefix -------------------------------------------------------------------------------
    def _start_warm_up(self, prefix: Prefix) -> None:
        """Feed the prefix through the backbone (no depformer, no sampling), with the text
        actions forced to where its words are spoken. One batched forward, since the inputs do not
        depend on the outputs; it waits for the script's first words, which the look-ahead
        stream spells out over the prefix's last words."""
        delays = self.config.data.delay_pattern
        for codebook, delay in enumerate(delays):
            frames = prefix.codes[codebook]
            self.grid[codebook, delay:delay + prefix.frames] = frames[: self.grid.shape[1] - delay]
        self._new_word_steps = set(prefix.new_word_steps)
        self._warmup_steps = []
        self._continue_warm_up()

    def _continue_warm_up(self) -> bool:
        """Take the warm-up's text steps as far as the text allows; True once the prefill ran."""
        steps, prefix = self._warmup_steps, self.prefix
        while len(steps) < prefix.frames:
            t = len(steps)
            action = ACTION_NEW_WORD if t in self._new_word_steps else ACTION_PAD
            if self.machine.needs_text(action, forced=True):
                return False
            steps.append(self._inputs(t))
            step = self.machine.step(action, forced=True)
            self._note_consumption(step, t)
            self.text = [step.main, step.second]
        self.warmup_inputs = torch.stack(steps)
        self._warmup_steps = None
        self.network.prefill(self.warmup_inputs.transpose(0, 1), self.reusable_steps())
        # Generation starts by processing the last prefix step again, as the reference does;
        # columns from there on are generated (the last prefix frames are re-sampled).
        self.grid[:, prefix.frames:] = self.config.data.audio_pad
        return True

    def reusable_steps(self) -> list[int]:
        """For each part of the prefix, how many warm-up steps' inputs depend on that part and
        those before it alone (not on what follows: the next part, the script), so the caches
        after them can be reused by any generation that starts the same way.

        Found by running the warm-up's text steps with stand-ins for whatever follows the part:
        the first step that reads one is where the part's steps end. The stand-ins reach the
        text streams at the same step whatever they stand for (the look-ahead queue before them
        holds the part's own tokens), so the count never depends on the script."""
        data, prefix = self.config.data, self.prefix
        forced = set(prefix.new_word_steps)
        unknown = Entry("…", (UNKNOWN_TOKEN,), 1)
        cuts = []
        for end in prefix.part_ends:
            machine = TextStateMachine(prefix.entries[:end] + [unknown] * data.second_stream_ahead, pad=data.text_pad,
                                       new_word=data.text_new_word, lookahead=data.second_stream_ahead)
            cut = prefix.frames
            for t in range(prefix.frames):
                step = machine.step(ACTION_NEW_WORD if t in forced else ACTION_PAD, forced=True)
                if UNKNOWN_TOKEN in (step.main, step.second):
                    cut = t + 1  # step t's text is step t + 1's input
                    break
            cuts.append(cut)
        return cuts

    def _note_consumption(self, step: TextStep, t: int) -> None:
        if step.consumed is not None:
            self.state.consumed.append((step.consumed, t))

    # ---- generation ---------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        state = self.state
        if state.last_step >= self.max_steps - 1:
            return True  # the context is full, ended or not
        if state.end_step is not None:
            return state.last_step >= state.end_step + self.config.data.max_delay + MAX_PADDING - 1
        return False

    def add_text(self, entries: list[Entry]) -> None:
        self.machine.add_text(entries)

    def end_text(self) -> None:
        self.machine.complete_text()

    def step(self) -> StepRecord | None:
        """Run the next frame and return what it decided (the grid gains column t+1), or None
        while the word it takes (or that word's look-ahead) has not arrived: the frame's network
        work is kept, and a call after ``add_text`` or ``end_text`` finishes it."""
        if self._warmup_steps is not None and not self._continue_warm_up():
            return None
        t = self.state.last_step + 1 if self.state.last_step >= 0 else self.state.start_step
        if self._decided is None:
            inputs = self._inputs(t)
            decided = self.network.decide(inputs, t, self._kept(t), self.sampling, self.generator,
                                          negative=self.negative is not None)
            self._decided = inputs, decided
        inputs, decided = self._decided
        action = int(decided[0])
        if self.machine.needs_text(action):
            return None
        self._decided = None
        kept = self._kept(t)
        self.grid[:kept, t + 1] = decided[1:1 + kept]
        text_step = self.machine.step(action)
        self._note_consumption(text_step, t)
        if text_step.ended and self.state.end_step is None:
            self.state.end_step = t
        self.text = [text_step.main, text_step.second]
        if self.negative is not None:
            self._advance_negative(int(decided[-1]))
        self.state.last_step = t
        record = StepRecord(t=t, action=action, text=text_step, inputs=inputs)
        self.records.append(record)
        return record

    def _kept(self, t: int) -> int:
        """Codebooks step t computes: up to the last whose column t + 1 is kept (the ones before
        it are the depformer's inputs)."""
        delays = self.config.data.delay_pattern
        if not self.skip_discarded:
            return len(delays)
        return max((c + 1 for c, delay in enumerate(delays) if t + 1 >= delay), default=0)

    def _advance_negative(self, action: int) -> None:
        """The guidance row reads the negative prompt with its own actions; once it has said it
        all, it falls back to the unconditional text."""
        step = self.negative.step(action)
        data = self.config.data
        self.guidance_text = ([data.text_zero, data.text_pad] if self.negative.finished
                              else [step.main, step.second])

    # ---- output -------------------------------------------------------------------------------
    @property
    def grid_columns(self) -> int:
        return self.state.last_step + 2

    def ready_frames(self) -> int:
        """Frames whose codes are all known: frame j needs column j + delay[c] of every codebook."""
        return max(0, self.grid_columns - self.config.data.max_delay)

    def codes(self, start: int, stop: int) -> torch.Tensor:
        """Undelayed codes of frames [start, stop): [codebooks, stop - start]."""
        index = torch.arange(start, stop)[None, :] + self.delays[:, None]
        return self.grid.gather(1, index)
