"""The model's work for one frame, a backbone step then one depformer stage per codebook, with
the choices of the frame's tokens between them, over attention caches allocated once per loaded
model.

``FrameNetwork`` runs the layers eagerly (CPU, Apple MPS, and the baseline on CUDA).
``GraphedFrameNetwork`` captures the backbone step and each depformer stage as CUDA graphs when
the model loads, after a warm-up, and replays them, with the choices made eagerly between the
replays. ``frame_graph.FrameGraphNetwork`` records the whole frame, choices included. All give the
same tokens: the graphs record the very same operations on the same fixed-shape buffers.
"""

from __future__ import annotations

import threading
from typing import Callable, Protocol

import torch

from core.dia2.layers import RotaryTable, SlotCache, StepPlace
from core.dia2.model import Dia2Model
from core.dia2.sampling import Sampling, choose, skip_choice
from core.dia2.warm_states import WarmState, WarmStates

BATCH = 2  # conditional row, guidance row

BackboneOutputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # hidden, action logits, cb0 logits


class FrameNetwork:
    def __init__(self, model: Dia2Model):
        config = model.config
        parameter = next(model.parameters())
        self.model, self.config = model, config
        self.device, self.dtype = parameter.device, parameter.dtype
        # One generation at a time: the caches belong to the run that holds this lock.
        self.lock = threading.Lock()
        # On a GPU, eager steps read every cache slot, exactly as the graphs do, so both paths
        # run the same kernels and give the same tokens. Elsewhere they read only what is
        # written: the whole backbone cache would cost ~40% of a CPU frame.
        self.trim = self.device.type != "cuda"
        backbone, depformer = config.decoder, config.depformer
        # One slot per position, plus one: the last prefix step is processed twice.
        self.capacity = config.max_context_steps + 1
        self.caches = [SlotCache(BATCH, backbone.kv_heads, self.capacity, backbone.head_dim, self.dtype, self.device)
                       for _ in range(backbone.n_layer)]
        self.stages = len(config.weights_schedule)
        self.stage_caches = [SlotCache(BATCH, depformer.kv_heads, self.stages, depformer.head_dim, self.dtype,
                                       self.device) for _ in range(depformer.n_layer)]
        self.rope = RotaryTable(backbone.head_dim, config.rope_min_timescale, config.rope_max_timescale,
                                self.capacity, self.device)
        self.stage_rope = None
        if config.depformer_apply_rope:
            self.stage_rope = RotaryTable(depformer.head_dim, config.rope_min_timescale,
                                          config.rope_max_timescale, self.stages, self.device)
        # Stage s sits at position s, writes slot s and reads slots 0..s: the same shapes every
        # frame, so the trimmed read suits graphs as well.
        self.stage_places = [StepPlace.at(s, s, 1, self.stages, self.device) for s in range(self.stages)]
        self.hidden: torch.Tensor | None = None
        self.slot = 0
        self.warm_states = WarmStates()  # the caches after voice prompts (and lines before) met before

    def generator(self, seed: int) -> torch.Generator:
        """The random numbers of one generation on this network's device, seeded."""
        return torch.Generator(device=self.device).manual_seed(seed)

    def reset(self) -> None:
        """Start a new sequence (the cache contents need no clearing: unwritten slots are masked)."""
        self.slot = 0
        self.hidden = None

    def _take_slots(self, count: int) -> int:
        if self.slot + count > self.capacity:
            raise RuntimeError(f"attention cache overflow: {self.slot + count} > {self.capacity} slots")
        first, self.slot = self.slot, self.slot + count
        return first

    @torch.inference_mode()
    def prefill(self, tokens: torch.Tensor, cuts: list[int] = ()) -> None:
        """Run the backbone over a whole prefix: tokens [batch, T, channels] at positions
        0..T-1, in pieces ending at ``cuts`` (steps whose caches depend on the prefix alone):
        the caches at the longest cut already kept are copied back, and those at each cut
        computed are kept (``warm_states``). Always eager: it happens once per generation."""
        count = tokens.shape[1]
        cuts = sorted({cut for cut in cuts if 0 < cut <= count})
        start = 0
        warm = self.warm_states.find(tokens, cuts) if cuts and self.warm_states.max_bytes else None
        if warm is not None:
            self._take_slots(warm.steps)
            for cache, keys, values in zip(self.caches, warm.keys, warm.values):
                cache.keys[:, :, :warm.steps].copy_(keys)
                cache.values[:, :, :warm.steps].copy_(values)
            start = warm.steps
        for end in [cut for cut in cuts if start < cut < count] + [count]:
            if end == start:
                break  # the whole prefix was kept
            place = StepPlace.at(start, self._take_slots(end - start), end - start, self.capacity, self.device,
                                 self.trim)
            self.model.transformer(tokens[:, start:end].to(self.device), place, self.rope, self.caches)
            if end in cuts and self.warm_states.max_bytes:
                self.warm_states.keep(WarmState(tokens[:, :end].clone(),
                                                tuple(cache.keys[:, :, :end].clone() for cache in self.caches),
                                                tuple(cache.values[:, :, :end].clone() for cache in self.caches)))
            start = end

    @torch.inference_mode()
    def backbone(self, tokens: torch.Tensor, position: int) -> BackboneOutputs:
        """One frame's backbone step: tokens [batch, channels] (any device) at ``position``."""
        place = StepPlace.at(position, self._take_slots(1), 1, self.capacity, self.device, self.trim)
        outputs = self.model.transformer(tokens[:, None].to(self.device), place, self.rope, self.caches)
        self.hidden = outputs[0]
        return outputs

    @torch.inference_mode()
    def stage(self, stage: int, previous_token: torch.Tensor) -> torch.Tensor:
        """Logits [batch, 2048] of codebook ``stage + 1`` from the last backbone step's hidden
        state and the token chosen for the codebook before (shape [1] or [batch])."""
        return self.model.depformer.stage(stage, self.hidden, previous_token.expand(BATCH),
                                          self.stage_places[stage], self.stage_rope, self.stage_caches)

    def decide(self, inputs: torch.Tensor, t: int, kept: int, sampling: Sampling, generator: torch.Generator,
               negative: bool) -> torch.Tensor:
        """Frame ``t``'s work and choices from its ``inputs`` [batch, channels], on the host:
        [action, codebooks 0..kept-1, the negative prompt's action if ``negative``]. The codebooks
        after ``kept`` are thrown away: their stages are skipped, their random numbers drawn."""
        data = self.config.data
        with torch.inference_mode():
            _, action_logits, cb0_logits = self.backbone(inputs, t)
            # Decisions stay on the device until the frame is done: one transfer, no stall
            # between the backbone and the depformer.
            decided = [choose(action_logits[:1], action_logits[1:], sampling.cfg_scale, sampling.text, generator)]
            if kept:
                token = choose(cb0_logits[:1], cb0_logits[1:], sampling.cfg_scale, sampling.audio, generator,
                               never=(data.audio_bos, data.audio_pad))
                decided.append(token)
            else:
                skip_choice(sampling.audio, data.audio_vocab_size, generator)
            for stage in range(self.stages):
                if stage + 1 < kept:
                    logits = self.stage(stage, token)
                    token = choose(logits[:1], logits[1:], sampling.cfg_scale, sampling.audio, generator)
                    decided.append(token)
                else:
                    skip_choice(sampling.audio, self.model.depformer.logit_width, generator)
            if negative:
                decided.append(choose(action_logits[1:], None, 1.0, sampling.text, generator))
            return torch.cat(decided).cpu()


class GraphRecorder(Protocol):
    """How a step is turned into a replayable recording: CUDA graphs on a GPU; tests use an
    eager stand-in with the same contract (outputs live at fixed addresses, refreshed by replay)."""

    def warm_up(self, step: Callable[[], object]) -> None: ...

    def capture(self, step: Callable[[], object],
                generators: tuple[torch.Generator, ...] = ()) -> tuple[Callable[[], None], object]:
        """``generators``: those the step draws random numbers from; each replay draws new ones
        from them, exactly those the step would draw run eagerly."""
        ...


class CudaGraphRecorder:
    """Captures into one shared memory pool; the graphs are replayed in the order captured."""

    def __init__(self, device: torch.device):
        self.device = device
        self.pool = torch.cuda.graph_pool_handle()

    def warm_up(self, step: Callable[[], object]) -> None:
        # On a side stream, as CUDA graph capture requires: it initialises cuBLAS workspaces and
        # lazy kernels, which must not happen for the first time inside a capture.
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            step()
        torch.cuda.current_stream(self.device).wait_stream(stream)
        torch.cuda.synchronize(self.device)

    def capture(self, step: Callable[[], object],
                generators: tuple[torch.Generator, ...] = ()) -> tuple[Callable[[], None], object]:
        graph = torch.cuda.CUDAGraph()
        for generator in generators:
            graph.register_generator_state(generator)
        # Thread-local: the model loads on a worker thread while others (speech recognition, say)
        # may use the GPU; their work must neither fail nor be captured.
        with torch.cuda.graph(graph, pool=self.pool, capture_error_mode="thread_local"):
            outputs = step()
        return graph.replay, outputs


class GraphedFrameNetwork(FrameNetwork):
    """Replays recorded steps: inputs are copied into fixed buffers, outputs read from fixed
    buffers. Recording happens here, at model loading, never in a user's first generation."""

    WARMUP_ROUNDS = 3

    def __init__(self, model: Dia2Model, recorder: GraphRecorder | None = None):
        super().__init__(model)
        self.recorder = recorder or CudaGraphRecorder(self.device)
        channels = self.config.data.channels
        self.step_tokens = torch.zeros(BATCH, 1, channels, dtype=torch.long, device=self.device)
        self.step_place = StepPlace(1, self.capacity, self.device)
        self.previous_token = torch.zeros(BATCH, dtype=torch.long, device=self.device)
        with torch.inference_mode():
            self._record()
        self.reset()

    def _run_backbone(self) -> BackboneOutputs:
        self.step_place.update_visible()
        return self.model.transformer(self.step_tokens, self.step_place, self.rope, self.caches)

    def _run_stage(self, stage: int, hidden: torch.Tensor) -> torch.Tensor:
        return self.model.depformer.stage(stage, hidden, self.previous_token, self.stage_places[stage],
                                          self.stage_rope, self.stage_caches)

    def _record(self) -> None:
        def whole_frame() -> None:
            hidden = self._run_backbone()[0]
            for stage in range(self.stages):
                self._run_stage(stage, hidden)

        for _ in range(self.WARMUP_ROUNDS):
            self.recorder.warm_up(whole_frame)
        self.replay_backbone, self.backbone_outputs = self.recorder.capture(self._run_backbone)
        hidden = self.backbone_outputs[0]
        self.stage_graphs = [self.recorder.capture(lambda s=stage: self._run_stage(s, hidden))
                             for stage in range(self.stages)]

    @torch.inference_mode()
    def backbone(self, tokens: torch.Tensor, position: int) -> BackboneOutputs:
        slot = self._take_slots(1)
        self.step_tokens.copy_(tokens[:, None])
        self.step_place.positions.fill_(position)
        self.step_place.slots.fill_(slot)
        self.replay_backbone()
        self.hidden = self.backbone_outputs[0]
        return self.backbone_outputs

    @torch.inference_mode()
    def stage(self, stage: int, previous_token: torch.Tensor) -> torch.Tensor:
        self.previous_token.copy_(previous_token.expand(BATCH))
        replay, logits = self.stage_graphs[stage]
        replay()
        return logits

