"""Mimi, the audio codec of Dia2: voice-reference audio → codes, generated codes → audio.

The codec is transformers' ``MimiModel`` loaded from a local folder (turning a Hub id into a folder is the
checkpoint code's job). A full decode is one ``MimiModel.decode`` of the whole clip, as the reference runtime
does. A streaming decode runs the same modules on the same weights but keeps, at every layer, what that layer
still needs from the past, so audio can play while the model is still generating and each frame costs the
same however long the clip already is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from torch import nn
from transformers import DynamicCache, MimiConfig, MimiModel
from transformers.utils import logging as transformers_logging
from transformers.models.mimi.modeling_mimi import (
    MimiConv1d,
    MimiConvTranspose1d,
    MimiDecoder,
    MimiDecoderModel,
    MimiResnetBlock,
    MimiTransformerModel,
)

from core.errors import DiaStudioError, InvalidParameter


class CodecLoadError(DiaStudioError):
    """The folder does not hold a Mimi codec that can be loaded."""


class StreamingUnsupported(DiaStudioError):
    """This codec's layers cannot be run frame by frame; decode the whole clip instead."""


class MimiCodec:
    """Encodes mono audio to Mimi codes and decodes codes back to audio, on one device."""

    def __init__(self, model: MimiModel):
        """Wraps a loaded model; the app uses :meth:`from_folder`, tests and benchmarks pass random models."""
        self._model = model.eval()
        config = model.config
        self.sample_rate: int = int(config.sampling_rate)
        self.frame_rate: float = float(config.frame_rate)
        self.samples_per_frame: int = int(config.frame_size)
        self.num_codebooks: int = int(config.num_quantizers)

    @classmethod
    def from_folder(
        cls, path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
    ) -> MimiCodec:
        """Loads the codec from a folder holding a transformers ``config.json`` and safetensors weights."""
        _refuse_low_precision(dtype)
        folder = Path(path)
        _check_folder_holds_mimi(folder)
        # transformers draws a progress bar on stderr for every load; ours report their own progress.
        transformers_logging.disable_progress_bar()
        try:
            # use_kernels=False: transformers 5.25 swaps layers for the Hub's compiled kernels by default
            # (code fetched at load, which the bundle does not even carry); the codec is exact without them.
            model, loading_info = MimiModel.from_pretrained(
                folder, local_files_only=True, use_safetensors=True, dtype=dtype, output_loading_info=True,
                use_kernels=False,
            )
        except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
            raise CodecLoadError(f"The Mimi codec in {folder} could not be loaded: {exc}") from exc
        _check_every_weight_loaded(folder, loading_info)
        # Loading straight onto a GPU needs transformers' `device_map`, which needs the `accelerate` package;
        # without it the weights pass through host memory once (Mimi is about 0.4 GB, so that is brief).
        return cls(model.to(device))

    @property
    def device(self) -> torch.device:
        return next(self._model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self._model.parameters()).dtype

    @torch.inference_mode()
    def encode(self, wav: torch.Tensor | np.ndarray) -> torch.LongTensor:
        """Mono samples at ``sample_rate`` → codes ``[num_codebooks, frames]`` on the codec's device."""
        samples = torch.as_tensor(wav, dtype=self.dtype, device=self.device)
        if samples.ndim != 1 or samples.numel() == 0:
            raise ValueError(f"encode expects a non-empty 1-D mono signal, got shape {tuple(samples.shape)}")
        encoded = self._model.encode(samples[None, None], num_quantizers=self.num_codebooks)
        return encoded.audio_codes[0]

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Codes ``[num_codebooks, N]`` → float32 samples ``[N * samples_per_frame]`` in [-1, 1]."""
        return self._decode_with(lambda batch: self._model.decode(batch).audio_values, codes)

    def streaming_decoder(self) -> StreamingDecoder:
        """A decoder that takes codes a few frames at a time; see :class:`StreamingDecoder`."""
        return StreamingDecoder(self)

    def _decode_with(
        self, codes_to_audio: Callable[[torch.Tensor], torch.Tensor], codes: torch.Tensor | np.ndarray
    ) -> torch.Tensor:
        batch = _as_code_batch(codes, self.num_codebooks, self.device)
        if batch.shape[-1] == 0:
            return torch.zeros(0, device=self.device)
        audio = codes_to_audio(batch)
        # The reference clamps as well: Mimi can overshoot full scale, and 16-bit PCM would wrap around.
        return audio[0, 0].clamp(-1.0, 1.0).to(torch.float32)


class StreamingDecoder:
    """Decodes codes as they arrive; all pushes of a stream, joined, equal one decode of all its codes.

    Every Mimi decoder layer is causal, so the samples of frame n depend on frames ≤ n only: each push returns
    exactly the samples of the frames it was given, at the cost of those frames alone.
    """

    def __init__(self, codec: MimiCodec):
        self._codec = codec
        self.reset()

    def reset(self) -> None:
        """Forgets the past: the next push starts a new clip."""
        self._decoder = _stream_stage(self._codec._model.decoder)

    @torch.inference_mode()
    def push(self, codes: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Codes ``[num_codebooks, k]`` → float32 samples ``[k * samples_per_frame]`` for just these k frames."""
        quantizer = self._codec._model.quantizer
        # Dequantizing is a per-frame table lookup, so it needs no memory of the past.
        return self._codec._decode_with(lambda batch: self._decoder(quantizer.decode(batch)), codes)


def _refuse_low_precision(dtype: torch.dtype) -> None:
    # The codec is tiny next to the Dia2 model, so halving its precision saves almost nothing, while bf16
    # audio is audibly worse; it stays float32 (or float64, for checks) even when the model runs in bf16.
    if dtype not in (torch.float32, torch.float64):
        raise InvalidParameter("codec dtype", dtype, "float32 (or float64); bf16/fp16 audio is audibly worse")


def _check_folder_holds_mimi(folder: Path) -> None:
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise CodecLoadError(f"No Mimi codec in {folder}: config.json is missing.")
    if not any(folder.glob("*.safetensors")):
        raise CodecLoadError(f"No Mimi codec in {folder}: there is no .safetensors weights file.")
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as exc:
        raise CodecLoadError(f"The codec config {config_file} cannot be read: {exc}") from exc
    if model_type != MimiConfig.model_type:
        raise CodecLoadError(f"{folder} holds a {model_type!r} model, not a Mimi codec.")


def _check_every_weight_loaded(folder: Path, loading_info: dict) -> None:
    # transformers fills missing or misshapen weights with random values and only warns: that would decode noise.
    broken = sorted(loading_info["missing_keys"]) + sorted(str(key) for key in loading_info["mismatched_keys"])
    if broken:
        shown = ", ".join(broken[:5]) + (" …" if len(broken) > 5 else "")
        raise CodecLoadError(f"The Mimi weights in {folder} do not fit its config ({len(broken)} tensors: {shown}).")


def _as_code_batch(codes: torch.Tensor | np.ndarray, num_codebooks: int, device: torch.device) -> torch.Tensor:
    batch = torch.as_tensor(codes, device=device).long()
    if batch.ndim != 2 or batch.shape[0] != num_codebooks:
        raise ValueError(f"codes must be [{num_codebooks}, frames], got shape {tuple(batch.shape)}")
    return batch[None]


Stage = Callable[[torch.Tensor], torch.Tensor]
"""One decoder layer in streaming form: takes the next chunk ``[batch, channels, steps]``, returns its output."""


def _stream_stage(module: nn.Module) -> Stage:
    """The streaming form of a Mimi decoder module, with fresh (empty) memory of the past."""
    if isinstance(module, MimiDecoderModel):
        parts = (module.upsample, module.decoder_transformer, module.decoder_seanet)
        return _Chain(part for part in parts if part is not None)
    if isinstance(module, MimiDecoder):
        return _Chain(module.layers)
    if isinstance(module, MimiTransformerModel):
        return _TransformerStream(module)
    if isinstance(module, MimiConv1d):
        return _CausalConvStream(module)
    if isinstance(module, MimiConvTranspose1d):
        return _TransposedConvStream(module)
    if isinstance(module, MimiResnetBlock):
        return _ResidualStream(module)
    if isinstance(module, (nn.ELU, nn.Identity)):
        return module  # works sample by sample: nothing to remember
    raise StreamingUnsupported(f"This codec cannot decode as a stream: {type(module).__name__} has no streaming form.")


class _Chain:
    def __init__(self, modules: Iterable[nn.Module]):
        self._stages = [_stream_stage(module) for module in modules]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self._stages:
            x = stage(x)
        return x


class _ResidualStream:
    def __init__(self, block: MimiResnetBlock):
        self._body = _Chain(block.block)
        self._shortcut = _stream_stage(block.shortcut)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._shortcut(x) + self._body(x)


class _CausalConvStream:
    """A causal conv whose left padding is the previous input's last samples (zeros before the first chunk)."""

    def __init__(self, module: MimiConv1d):
        # The decoder's convs are causal, zero-padded and of stride 1; other kinds would need their own
        # bookkeeping (replicated padding, or the extra right padding a stride brings).
        if not module.causal or module.pad_mode != "constant" or module.conv.stride[0] != 1:
            raise StreamingUnsupported("This codec cannot decode as a stream: its convolutions are not causal.")
        self._conv = module.conv
        self._context_length = int(module.padding_total)
        self._context: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self._context is None:
            self._context = x.new_zeros(*x.shape[:-1], self._context_length)
        x = torch.cat([self._context, x], dim=-1)
        self._context = x[..., x.shape[-1] - self._context_length :]
        return self._conv(x)


class _TransposedConvStream:
    """A causal transposed conv that holds back the overlap the next input steps still add to.

    Each input step spreads over ``kernel`` outputs, ``stride`` apart, so the last ``kernel - stride`` outputs
    of a chunk are incomplete: they are kept (without bias) and added to the start of the next chunk's output.

    It is one matmul and a shift-and-add rather than ``conv_transpose1d``: on a few input steps PyTorch's CPU
    kernel takes a slow path (~75 ms for the first upsampling of a full-size Mimi on one frame, against ~8 ms
    for the matmul), which alone made frame-by-frame decoding slower than real time.
    """

    def __init__(self, module: MimiConvTranspose1d):
        conv = module.conv
        in_channels, _, kernel = conv.weight.shape
        stride = conv.stride[0]
        # With trim_right_ratio < 1 the full decode also trims the start, shifting every output away from the
        # chunk it belongs to; Mimi trims only the right end, which is what a stream leaves unfinished.
        if not module.causal or module.padding_left != 0 or kernel % stride != 0:
            raise StreamingUnsupported("This codec cannot decode as a stream: its upsampling is not causal.")
        self._groups, self._stride, self._taps = conv.groups, stride, kernel // stride
        # [groups, in/group, out/group · kernel], a view: every stream shares the module's weights.
        self._weight = conv.weight.view(conv.groups, in_channels // conv.groups, -1)
        self._bias = None if conv.bias is None else conv.bias[:, None]
        self._overlap: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, steps = x.shape
        groups, taps, stride = self._groups, self._taps, self._stride
        # The whole kernel response of every input step: [batch, groups, steps, out/group, taps, stride].
        responses = x.view(batch, groups, -1, steps).transpose(-1, -2) @ self._weight
        responses = responses.view(batch, groups, steps, -1, taps, stride)
        # Tap j of step t lands on output block t + j, a block being `stride` samples.
        y = x.new_zeros(batch, groups, responses.shape[3], steps + taps - 1, stride)
        for tap in range(taps):
            y[:, :, :, tap : tap + steps] += responses[..., tap, :].transpose(2, 3)
        y = y.view(batch, -1, (steps + taps - 1) * stride)
        if self._overlap is not None:
            y[..., : self._overlap.shape[-1]] += self._overlap
        complete = steps * stride
        self._overlap = y[..., complete:]
        y = y[..., :complete]
        return y if self._bias is None else y + self._bias


class _TransformerStream:
    """The decoder transformer, chunk by chunk, on transformers' own KV cache.

    Built from the config, the cache is a sliding-window one when the config has a window: it keeps the last
    ``window - 1`` steps and masks as the full decode does, which the tests check beyond the window.
    """

    def __init__(self, transformer: MimiTransformerModel):
        self._transformer = transformer
        self._cache = DynamicCache(config=transformer.config)
        self._next_position = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.shape[-1]
        positions = torch.arange(self._next_position, self._next_position + steps, device=x.device)[None]
        self._next_position += steps
        out = self._transformer(x.transpose(1, 2), cache=self._cache, position_ids=positions)
        return out.last_hidden_state.transpose(1, 2)
