"""Dia2Runtime: a loaded Dia2 model (weights, tokenizer, codec on one device) that turns
requests into streamed audio. The one object the GUI, the command line and scripts use."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import torch

from core.dia2.checkpoint import WEIGHTS_FILE, ProgressCallback, is_hub_id, load_weights, resolve
from core.dia2.codec import MimiCodec
from core.dia2.config import Dia2Config
from core.dia2.device import INT8, choose_device, choose_dtype, generation_threads
from core.dia2.frame_graph import frame_network_for
from core.dia2.frame_network import FrameNetwork
from core.dia2.events import GenerationEvent, GenerationRequest, TakeResult
from core.dia2.generator import generate
from core.dia2.int8_weights import Int8Linear, quantize_linears
from core.dia2.packed_weights import can_pack, pack_linears
from core.dia2.live_take import LiveTake
from core.dia2.model import Dia2Model
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.script_codec import ScriptCodec
from core.dia2.tokenizer import TextTokenizer
from core.params import MODEL_IDS, GenerationParams


class Dia2Runtime(ScriptCodec):
    def __init__(self, model: Dia2Model, tokenizer: TextTokenizer, codec: MimiCodec, name: str,
                 network: FrameNetwork | None = None):
        self.model = model.eval()
        self.network = network or FrameNetwork(self.model)
        self.config: Dia2Config = model.config
        super().__init__(tokenizer, codec)
        self.name = name
        parameter = next(model.parameters())
        self.device, self.dtype = parameter.device, parameter.dtype
        # Frames decoded together after the first chunk: one Mimi step is a few hundred small
        # kernels, as costly as a whole frame of graphs on a GPU; on a processor the decoding
        # is real work and one frame at a time keeps the preview ahead of the player.
        self.chunk_frames = 4 if self.device.type == "cuda" else 1
        # The first frames' work whose tokens the delays throw away is skipped (exact: the same
        # tokens, greedy or sampled); off only to measure what it saves.
        self.skip_discarded_work = True
        int8 = any(isinstance(module, Int8Linear) for module in model.modules())
        self.precision = INT8 if int8 else str(self.dtype).removeprefix("torch.")

    @classmethod
    def load(cls, model: str | Path = "dia2-2b", device: str = "auto", dtype: str = "auto",
             progress: ProgressCallback | None = None, cache_dir: str | Path | None = None,
             cuda_graphs: bool = True, threads: int | None = None) -> "Dia2Runtime":
        """``model``: a studio model id (dia2-2b, dia2-1b), a Hub id, or a local folder. ``dtype``:
        auto, float32, bfloat16, or int8 (int8 weights computing in bfloat16: the least memory on a
        processor). On a CUDA GPU the frame steps are warmed up and captured as graphs here
        (``cuda_graphs``). On a processor, ``threads`` sets torch's thread count for the process
        (default: ``generation_threads()``)."""
        name = MODEL_IDS.get(str(model), str(model))
        folders = resolve(name, progress, cache_dir)
        target = choose_device(device)
        precision = choose_dtype(dtype, target)
        if target.type == "cpu":
            torch.set_num_threads(threads or generation_threads())
        config = Dia2Config.from_file(folders.model / "config.json")
        with torch.device("meta"):
            network = Dia2Model(config)
        load_weights(network, folders.model / WEIGHTS_FILE, target, precision)
        prepare_linears(network, target, int8=str(dtype).lower() == INT8)
        tokenizer = TextTokenizer(folders.tokenizer)
        codec = MimiCodec.from_folder(folders.codec, device=target)
        if not is_hub_id(name):  # a local folder by its full path: takes record which model made them
            name = str(folders.model.resolve())
        return cls(network, tokenizer, codec, name, frame_network_for(network.eval(), cuda_graphs))

    @property
    def max_seconds_per_context(self) -> float:
        return self.config.max_context_steps / self.frame_rate

    @property
    def generates_on(self) -> str:
        """Where generations run, as said to the user (a cluster's runtime names its replicas)."""
        return str(self.device)

    @property
    def weights_bytes(self) -> int:
        # int8 and packed weights are buffers, not parameters
        return sum(t.numel() * t.element_size() for t in [*self.model.parameters(), *self.model.buffers()])

    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
        return generate(self, request, cancel)

    def open_live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                       context: SpokenContext | None = None) -> LiveTake:
        """A take whose text is pushed while it is made (see ``core.dia2.live_take``). Open it
        before the text exists (voices given as prompts, already encoded) and iterate its events
        on a worker at once: the frames that need no text run straight away. Raises
        ``GenerationBusy`` while another generation holds the model."""
        return LiveTake(self, params, voices, context)

    def render(self, request: GenerationRequest, cancel: threading.Event | None = None) -> list[TakeResult]:
        """Run a request to the end and return its takes (no streaming)."""
        return [event for event in self.generate(request, cancel) if isinstance(event, TakeResult)]

    def release_memory(self) -> None:
        """Give what a finished or cancelled run allocated (the device allocator's cached
        blocks) back to the device; the attention caches stay with the model. No gc.collect():
        it would hold the GIL, and freeze a window, for a large fraction of a second."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        elif self.device.type == "mps":
            torch.mps.empty_cache()


def prepare_linears(model: Dia2Model, device: torch.device, int8: bool) -> None:
    """How the linear layers keep their weights for the precision asked: as int8 when asked; in
    bfloat16, laid out for oneDNN on a processor that runs its products."""
    if int8:
        quantize_linears(model)
    elif can_pack(device, next(model.parameters()).dtype):
        pack_linears(model)
