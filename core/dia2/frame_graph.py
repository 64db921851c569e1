"""One CUDA graph per frame: the backbone step, every choice and every depformer stage recorded
together. A frame then costs one graph launch and one small transfer each way, instead of a graph
per stage with a score of small sampling kernels launched from Python between each two.

A recording fixes the shape of the choices (``ChoiceShape``): which are drawn rather than
argmax, their top-k, whether guidance filters, whether a negative prompt has its own action. The
temperatures and the guidance scale are read from device buffers, so tuning them replays the same
recording. The default parameters' shape is recorded when the model loads; another is recorded
the first time a generation asks for it (about one eager frame's time), and the last few are kept.

Random numbers come from the network's own generator (``generator(seed)``), registered with each
recording: a replay draws from it the numbers the eager choices draw, so a seed gives the eager
path's tokens. A recorded frame computes every codebook, also in the first frames whose codebooks
the delays throw away: the eager path skips that work but draws the same random numbers, so the
tokens kept are the same.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import torch

from core.dia2.frame_network import BATCH, CudaGraphRecorder, FrameNetwork, GraphedFrameNetwork, GraphRecorder
from core.dia2.layers import StepPlace
from core.dia2.model import Dia2Model
from core.dia2.sampling import Sampling, candidate_logits, draw_top_k
from core.params import GenerationParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChoiceShape:
    """What a recorded frame fixes about its choices."""

    text_top_k: int | None  # None: the action is the argmax
    audio_top_k: int | None  # None: every codebook token is the argmax
    guided: bool
    negative: bool  # the guidance row reads a negative prompt, with actions of its own

    @classmethod
    def of(cls, sampling: Sampling, negative: bool) -> "ChoiceShape":
        return cls(text_top_k=None if sampling.text.greedy else sampling.text.top_k,
                   audio_top_k=None if sampling.audio.greedy else sampling.audio.top_k,
                   guided=sampling.guided, negative=negative)


DEFAULT_SHAPE = ChoiceShape.of(Sampling.of(GenerationParams.create()), negative=False)


@dataclass
class FrameRecording:
    replay: Callable[[], None]
    decided: torch.Tensor  # where each replay leaves its choices, on the device


class FrameGraphNetwork(FrameNetwork):
    WARMUP_ROUNDS = 3  # at load: the first work on the GPU (cuBLAS, cuDNN plans) must not be captured
    LATER_WARMUP_ROUNDS = 1
    KEPT_RECORDINGS = 4

    def __init__(self, model: Dia2Model, recorder_factory: Callable[[], GraphRecorder] | None = None,
                 shapes: tuple[ChoiceShape, ...] = (DEFAULT_SHAPE,)):
        super().__init__(model)
        # Each recording has a memory pool of its own: they are replayed in any order.
        self.recorder_factory = recorder_factory or (lambda: CudaGraphRecorder(self.device))
        self.token_count = BATCH * self.config.data.channels
        # A frame's inputs travel in one transfer: its tokens, then its position and cache slot.
        self.frame_in = torch.zeros(self.token_count + 2, dtype=torch.long, device=self.device)
        self.staging = torch.zeros(self.token_count + 2, dtype=torch.long, pin_memory=self.device.type == "cuda")
        self.step_place = StepPlace(1, self.capacity, self.device)
        self.cfg_scale = torch.ones((), device=self.device)
        self.text_temperature = torch.ones((), device=self.device)
        self.audio_temperature = torch.ones((), device=self.device)
        self.applied: Sampling | None = None
        self.rng = torch.Generator(device=self.device)
        self.recordings: OrderedDict[ChoiceShape, FrameRecording] = OrderedDict()
        self.unrecordable: dict[ChoiceShape, str] = {}  # shapes whose capture failed: chosen eagerly
        with torch.inference_mode():
            for shape in shapes:
                self.recordings[shape] = self._record(shape, self.WARMUP_ROUNDS)
        self.reset()

    def generator(self, seed: int) -> torch.Generator:
        return self.rng.manual_seed(seed)

    @torch.inference_mode()
    def decide(self, inputs: torch.Tensor, t: int, kept: int, sampling: Sampling, generator: torch.Generator,
               negative: bool) -> torch.Tensor:
        """As ``FrameNetwork.decide``, but every codebook's token is returned (the caller keeps
        the first ``kept``)."""
        if generator is not self.rng:
            raise ValueError("a recorded frame draws from its network's generator: take it from generator(seed)")
        shape = ChoiceShape.of(sampling, negative)
        if shape in self.unrecordable:
            return super().decide(inputs, t, kept, sampling, generator, negative)
        # Staged first: a recording made now warms up on this very frame, which then writes
        # the same keys and values into its cache slot as the replay does.
        slot = self._take_slots(1)
        self._stage(inputs, t, slot)
        recording = self._recording(shape)
        if recording is None:
            self.slot = slot  # the eager step takes it again
            return super().decide(inputs, t, kept, sampling, generator, negative)
        self._apply(sampling)
        recording.replay()
        return recording.decided.cpu()

    def _stage(self, inputs: torch.Tensor, position: int, slot: int) -> None:
        staged, count = self.staging, self.token_count
        staged[:count].copy_(inputs.reshape(-1))
        staged[count] = position
        staged[count + 1] = slot
        # From pinned memory, so the copy does not wait; the frame's result read later waits for it.
        self.frame_in.copy_(staged, non_blocking=True)

    def _apply(self, sampling: Sampling) -> None:
        if sampling == self.applied:
            return
        self.cfg_scale.fill_(sampling.cfg_scale)
        self.text_temperature.fill_(self._temperature_operand(sampling.text.temperature))
        self.audio_temperature.fill_(self._temperature_operand(sampling.audio.temperature))
        self.applied = sampling

    def _temperature_operand(self, temperature: float) -> float:
        # The eager choice divides by a host number. On CUDA PyTorch computes that as a product
        # with its float32 reciprocal, so the recording multiplies by the same reciprocal; on a
        # processor it divides, and so does the recording.
        if temperature <= 0:
            return 1.0  # argmax: unused
        if self.device.type == "cuda":
            return float(torch.tensor(temperature, dtype=torch.float32).reciprocal())
        return temperature

    def _scaled(self, logits: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
        return logits * temperature if self.device.type == "cuda" else logits / temperature

    def _recording(self, shape: ChoiceShape) -> FrameRecording | None:
        recording = self.recordings.get(shape)
        if recording is not None:
            self.recordings.move_to_end(shape)
            return recording
        try:
            recording = self._record(shape, self.LATER_WARMUP_ROUNDS)
        except (RuntimeError, AttributeError) as error:
            log.warning("recording a frame for %s failed; its choices are made eagerly: %s", shape, error)
            self.unrecordable[shape] = str(error)
            return None
        self.recordings[shape] = recording
        while len(self.recordings) > self.KEPT_RECORDINGS:
            self.recordings.popitem(last=False)
        return recording

    def _record(self, shape: ChoiceShape, warmup_rounds: int) -> FrameRecording:
        recorder = self.recorder_factory()
        # Warm-ups draw from a scratch generator and the capture leaves the network's where it
        # was: recording during a generation must not change its random numbers.
        scratch = torch.Generator(device=self.device)
        for _ in range(warmup_rounds):
            recorder.warm_up(lambda: self._frame(shape, scratch))
        state = self.rng.get_state()
        try:
            replay, decided = recorder.capture(lambda: self._frame(shape, self.rng), generators=(self.rng,))
        finally:
            self.rng.set_state(state)
        return FrameRecording(replay, decided)

    def _frame(self, shape: ChoiceShape, generator: torch.Generator) -> torch.Tensor:
        """The operations recorded: FrameNetwork.decide's, with every stage, reading the frame's
        inputs and the sampling values from this network's buffers."""
        data, count, place = self.config.data, self.token_count, self.step_place
        place.positions.copy_(self.frame_in[count:count + 1])
        place.slots.copy_(self.frame_in[count + 1:])
        place.update_visible()
        tokens = self.frame_in[:count].view(BATCH, 1, -1)
        hidden, action_logits, cb0_logits = self.model.transformer(tokens, place, self.rope, self.caches)

        def choose(logits: torch.Tensor, top_k: int | None, temperature: torch.Tensor, guided: bool,
                   never: tuple[int, ...] = ()) -> torch.Tensor:
            candidates = candidate_logits(logits[:1], logits[1:] if guided else None, self.cfg_scale, never)
            if top_k is None:
                return candidates.argmax(dim=-1)
            return draw_top_k(self._scaled(candidates, temperature), top_k, generator)

        text_k, audio_k = shape.text_top_k, shape.audio_top_k
        decided = [choose(action_logits, text_k, self.text_temperature, shape.guided)]
        token = choose(cb0_logits, audio_k, self.audio_temperature, shape.guided,
                       never=(data.audio_bos, data.audio_pad))
        decided.append(token)
        for stage in range(self.stages):
            logits = self.model.depformer.stage(stage, hidden, token.expand(BATCH), self.stage_places[stage],
                                                self.stage_rope, self.stage_caches)
            token = choose(logits, audio_k, self.audio_temperature, shape.guided)
            decided.append(token)
        if shape.negative:
            decided.append(choose(action_logits[1:], text_k, self.text_temperature, guided=False))
        return torch.cat(decided)


def first_recordable(model: Dia2Model, kinds: tuple[Callable[[Dia2Model], FrameNetwork], ...]) -> FrameNetwork:
    """The first of ``kinds`` whose recording succeeds, else the eager network."""
    for kind in kinds:
        try:
            return kind(model)
        except (RuntimeError, AttributeError) as error:
            log.warning("%s could not be recorded, trying the next way: %s", getattr(kind, "__name__", kind), error)
    return FrameNetwork(model)


def frame_network_for(model: Dia2Model, cuda_graphs: bool = True) -> FrameNetwork:
    """The fastest network the model's device supports: a graph per frame on CUDA (a graph per
    step where that capture fails), eager elsewhere."""
    device = next(model.parameters()).device
    if cuda_graphs and device.type == "cuda":
        return first_recordable(model, (FrameGraphNetwork, GraphedFrameNetwork))
    return FrameNetwork(model)
