"""MimiCodec against the parity fixture, and the streaming decoder against the full decode."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import save_file
from transformers import MimiConfig, MimiModel

from core.dia2.codec import CodecLoadError, MimiCodec, StreamingUnsupported
from core.errors import DiaStudioError, InvalidParameter

FIXTURE = Path(__file__).parents[2] / "fixtures" / "dia2_parity"
MIMI = FIXTURE / "checkpoint" / "mimi"
STREAM_TOLERANCE = 1e-5
# Well past the tiny config's transformer window (250 steps at 25 Hz = 125 frames).
LONG_CLIP_FRAMES = 300


def golden(case: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURE / "goldens" / f"{case}.npz") as arrays:
        return dict(arrays)


def random_codes(frames: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 2048, (32, frames), generator=torch.Generator().manual_seed(seed))


def stream(codec: MimiCodec, codes: torch.Tensor, chunk_sizes) -> torch.Tensor:
    decoder = codec.streaming_decoder()
    pieces, start = [], 0
    for size in chunk_sizes:
        if start >= codes.shape[1]:
            break
        chunk = codes[:, start : start + size]
        piece = decoder.push(chunk)
        assert piece.shape == (chunk.shape[1] * codec.samples_per_frame,)
        pieces.append(piece)
        start += size
    return torch.cat(pieces)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The tiny codec's ops are too small to share between threads; on a busy 2-core runner the second thread
    # only adds waiting (streaming ran 10x slower with it). These tests check numbers, not speed.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def codec() -> MimiCodec:
    return MimiCodec.from_folder(MIMI)


@pytest.fixture(scope="module")
def codec_with_strong_attention() -> MimiCodec:
    # In the tiny random codec the attention branch is ~1/1000 of the residual stream, so even ignoring the
    # sliding window changes the audio by only ~3e-6, below the streaming tolerance. Sharpening the attention
    # and raising its layer scale makes the window change the audio by ~1e-2, so a window bug cannot hide.
    strong = MimiCodec.from_folder(MIMI)
    with torch.no_grad():
        for layer in strong._model.decoder.decoder_transformer.layers:
            layer.self_attn_layer_scale.scale.fill_(30.0)
            layer.self_attn.q_proj.weight.mul_(6.0)
            layer.self_attn.k_proj.weight.mul_(6.0)
    return strong


def test_the_codec_never_takes_the_hubs_kernels(codec):
    """transformers 5.25 kernelizes a model from the Hub by default; the studio's codec stays as loaded
    (and the bundle carries no `kernels` package for it to use)."""
    assert codec._model.use_kernels is False


def test_properties_come_from_the_config(codec):
    assert (codec.sample_rate, codec.frame_rate, codec.samples_per_frame) == (24000, 12.5, 1920)
    assert codec.num_codebooks == 32
    assert codec.dtype == torch.float32 and codec.device == torch.device("cpu")


@pytest.mark.parametrize("case", ["dialogue_cfg1", "clone_s1_cfg1_keep"])
def test_decode_reproduces_the_golden_waveform(codec, case):
    arrays = golden(case)
    wav = codec.decode(arrays["codes"])
    expected = torch.from_numpy(arrays["waveform"])
    assert wav.dtype == torch.float32
    assert wav.shape == (arrays["codes"].shape[1] * codec.samples_per_frame,) == expected.shape
    torch.testing.assert_close(wav, expected, atol=1e-4, rtol=0)
    rms, expected_rms = wav.square().mean().sqrt(), expected.square().mean().sqrt()
    assert abs(rms - expected_rms) <= 1e-5 * expected_rms


@pytest.mark.parametrize(
    ("case", "prefixes"),
    [
        ("clone_s1_cfg1_crop", {"prefix_s1.wav": 25}),
        ("clone_s1s2_cfg1_crop", {"prefix_s1.wav": 25, "prefix_s2.wav": 20}),
    ],
)
def test_encode_reproduces_the_golden_prefix_codes(codec, case, prefixes):
    encoded = []
    for name, frames in prefixes.items():
        wav, rate = sf.read(FIXTURE / name, dtype="float32")
        assert rate == codec.sample_rate
        codes = codec.encode(wav)
        assert codes.dtype == torch.int64 and codes.shape == (32, frames)
        encoded.append(codes)
    np.testing.assert_array_equal(torch.cat(encoded, dim=1).numpy(), golden(case)["prefix_codes"])


def test_encode_takes_a_tensor_too(codec):
    wav, _ = sf.read(FIXTURE / "prefix_s2.wav", dtype="float32")
    assert torch.equal(codec.encode(torch.from_numpy(wav)), codec.encode(wav))


@pytest.mark.parametrize(
    "chunk_sizes",
    [itertools.repeat(1), itertools.repeat(3), itertools.cycle([1, 4, 1, 2, 9, 1, 5, 16])],
    ids=["1-frame", "3-frame", "uneven"],
)
def test_streaming_equals_the_full_decode_beyond_the_transformer_window(codec, chunk_sizes):
    codes = random_codes(LONG_CLIP_FRAMES)
    full = codec.decode(codes)
    torch.testing.assert_close(stream(codec, codes, chunk_sizes), full, atol=STREAM_TOLERANCE, rtol=0)


def test_streaming_honours_the_sliding_window(codec_with_strong_attention):
    codec = codec_with_strong_attention
    codes = random_codes(LONG_CLIP_FRAMES, seed=1)
    full = codec.decode(codes)
    transformer_config = codec._model.decoder.decoder_transformer.config
    window = transformer_config.sliding_window
    transformer_config.sliding_window = 10 * LONG_CLIP_FRAMES
    try:
        unwindowed = codec.decode(codes)
    finally:
        transformer_config.sliding_window = window
    assert (full - unwindowed).abs().max() > 1e-3, "this clip must be one the window changes"
    torch.testing.assert_close(stream(codec, codes, itertools.repeat(3)), full, atol=STREAM_TOLERANCE, rtol=0)


def test_streaming_the_golden_codes_frame_by_frame(codec):
    codes = golden("dialogue_cfg1")["codes"]
    torch.testing.assert_close(
        stream(codec, torch.from_numpy(codes), itertools.repeat(1)), codec.decode(codes), atol=STREAM_TOLERANCE, rtol=0
    )


def test_reset_starts_a_new_clip(codec):
    first, second = random_codes(12, seed=2), random_codes(8, seed=3)
    decoder = codec.streaming_decoder()
    decoder.push(first)
    continued = decoder.push(second)
    decoder.push(first)
    decoder.reset()
    restarted = decoder.push(second)
    alone = codec.decode(second)
    torch.testing.assert_close(restarted, alone, atol=STREAM_TOLERANCE, rtol=0)
    assert (continued - alone).abs().max() > 1e-3, "without a reset the stream carries the past on"


def test_no_frames_give_no_samples(codec):
    empty = torch.zeros(32, 0, dtype=torch.long)
    assert codec.decode(empty).shape == (0,)
    assert codec.streaming_decoder().push(empty).shape == (0,)


def test_codes_of_the_wrong_shape_are_refused(codec):
    with pytest.raises(ValueError, match=r"\[32, frames\]"):
        codec.decode(torch.zeros(31, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="1-D mono"):
        codec.encode(np.zeros((2, 100), dtype=np.float32))


def test_bf16_codec_is_refused():
    with pytest.raises(InvalidParameter, match="audibly worse"):
        MimiCodec.from_folder(MIMI, dtype=torch.bfloat16)


def copy_config(folder: Path) -> None:
    (folder / "config.json").write_bytes((MIMI / "config.json").read_bytes())


def write_weights_of_another_model(folder: Path) -> None:
    save_file({"something.else": torch.zeros(3)}, folder / "model.safetensors")


def write_broken_config(folder: Path) -> None:
    (folder / "config.json").write_text("{not json")
    write_weights_of_another_model(folder)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda folder: None, "config.json is missing"),
        (copy_config, ".safetensors"),
        (write_broken_config, "cannot be read"),
        (lambda folder: (copy_config(folder), write_weights_of_another_model(folder)), "do not fit"),
    ],
    ids=["empty", "no-weights", "bad-config", "foreign-weights"],
)
def test_a_folder_without_a_mimi_codec_is_a_clear_error(tmp_path, prepare, message):
    prepare(tmp_path)
    with pytest.raises(CodecLoadError, match=message) as raised:
        MimiCodec.from_folder(tmp_path)
    assert isinstance(raised.value, DiaStudioError)


def test_the_dia2_model_folder_is_not_taken_for_a_codec():
    with pytest.raises(CodecLoadError, match="not a Mimi codec"):
        MimiCodec.from_folder(MIMI.parent)


def test_a_non_causal_codec_cannot_stream():
    config = MimiConfig.from_pretrained(MIMI, local_files_only=True)
    config.use_causal_conv = False
    with pytest.raises(StreamingUnsupported):
        MimiCodec(MimiModel(config)).streaming_decoder()
