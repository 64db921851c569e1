"""config.json, the safetensors loader, checkpoint resolution and the tokenizer, on real files:
the tiny parity checkpoint and modified copies of it written to tmp_path."""

from __future__ import annotations

import copy
import json
import os
import pickle
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from core.dia2.checkpoint import (
    CheckpointError,
    CheckpointFolders,
    CheckpointMismatch,
    ModelUnavailable,
    is_hub_id,
    load_weights,
    resolve,
)
from core.dia2.config import DEFAULT_NORM_EPSILON, Dia2Config, InvalidConfig
from core.dia2.model import Dia2Model
from core.dia2.tokenizer import FALLBACK_TEXT_BOS, TextTokenizer
from core.errors import DiaStudioError

CHECKPOINT = Path(__file__).resolve().parents[2] / "fixtures" / "dia2_parity" / "checkpoint"
CONFIG_FILE = CHECKPOINT / "config.json"
WEIGHTS = CHECKPOINT / "model.safetensors"
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]


@pytest.fixture(scope="module")
def raw_config() -> dict:
    return json.loads(CONFIG_FILE.read_text())


@pytest.fixture
def raw(raw_config) -> dict:
    """A fresh copy of the fixture's config.json to modify."""
    return copy.deepcopy(raw_config)


@pytest.fixture(scope="module")
def config() -> Dia2Config:
    return Dia2Config.from_file(CONFIG_FILE)


@pytest.fixture(scope="module")
def tensors() -> dict[str, torch.Tensor]:
    return load_file(WEIGHTS)


def meta_model(config: Dia2Config) -> Dia2Model:
    with torch.device("meta"):
        return Dia2Model(config)


def set_key(raw: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value


def drop_key(raw: dict, path: str) -> None:
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    del node[last]


def invalid(raw: dict) -> str:
    with pytest.raises(InvalidConfig) as raised:
        Dia2Config.from_dict(raw, source="probe/config.json")
    assert isinstance(raised.value, DiaStudioError)
    message = str(raised.value)
    assert message.startswith("probe/config.json: ")
    return message


# --- config.json ----------------------------------------------------------------------------

def test_fixture_config_loads_every_value_from_the_file(config, raw_config):
    data, model, runtime = raw_config["data"], raw_config["model"], raw_config["runtime"]
    assert config.data.channels == data["channels"] == 34
    assert config.data.text_vocab_size == data["text_vocab_size"] == 512
    assert config.data.audio_vocab_size == data["audio_vocab_size"] == 2050
    assert config.data.text_pad == data["text_pad_token_id"] == 3
    assert config.data.text_new_word == data["text_new_word_token_id"] == 2
    assert config.data.text_zero == data["text_zero_token_id"] == 7
    assert config.data.audio_pad == data["audio_pad_token_id"] == 2049
    assert config.data.audio_bos == data["audio_bos_token_id"] == 2048
    assert config.data.delay_pattern == tuple(data["delay_pattern"]) == (2,) + (3,) * 31
    assert config.data.second_stream_ahead == data["second_stream_ahead"] == 2
    assert (config.data.num_codebooks, config.data.max_delay) == (32, 3)
    for shape, section in ((config.decoder, model["decoder"]), (config.depformer, model["depformer"])):
        assert (shape.n_layer, shape.n_embd, shape.n_hidden, shape.query_heads, shape.kv_heads, shape.head_dim) == (
            section["n_layer"], section["n_embd"], section["n_hidden"], section["gqa_query_heads"],
            section["kv_heads"], section["gqa_head_dim"])
        assert shape.mlp_activations == ("silu", "linear")  # absent from the file: the documented default
    assert (config.decoder.n_layer, config.decoder.n_embd, config.decoder.query_heads) == (2, 32, 4)
    assert (config.depformer.n_embd, config.depformer.head_dim) == (16, 8)
    assert config.depformer_apply_rope is True and config.depformer_text_embedding is False
    assert (config.rope_min_timescale, config.rope_max_timescale) == (1.0, 10000.0)
    assert config.norm_eps == model["normalization_layer_epsilon"] == 1e-6
    assert config.weights_schedule == tuple(runtime["weights_schedule"])
    assert config.weights_schedule == (0,) + (5,) * 9 + (3,) * 21
    assert config.depformer_groups == [0, 3, 5]  # the ids themselves, sorted
    assert config.max_context_steps == runtime["max_context_steps"] == 1500
    assert config.assets == {"tokenizer": ".", "mimi": "mimi"}


@pytest.mark.parametrize("path, value, read", [
    ("data.text_vocab_size", 600, lambda c: c.data.text_vocab_size),
    ("data.text_pad_token_id", 11, lambda c: c.data.text_pad),
    ("data.text_new_word_token_id", 12, lambda c: c.data.text_new_word),
    ("data.text_zero_token_id", 13, lambda c: c.data.text_zero),
    ("data.audio_pad_token_id", 2047, lambda c: c.data.audio_pad),
    ("data.audio_bos_token_id", 2046, lambda c: c.data.audio_bos),
    ("data.second_stream_ahead", 4, lambda c: c.data.second_stream_ahead),
    ("model.decoder.n_hidden", 96, lambda c: c.decoder.n_hidden),
    ("model.depformer.n_layer", 5, lambda c: c.depformer.n_layer),
    ("model.rope_max_timescale", 500000, lambda c: c.rope_max_timescale),
    ("model.normalization_layer_epsilon", 1e-3, lambda c: c.norm_eps),
    ("model.depformer.apply_rope", False, lambda c: c.depformer_apply_rope),
    ("runtime.max_context_steps", 3000, lambda c: c.max_context_steps),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_changed_value_is_read_not_hard_coded(raw, path, value, read):
    set_key(raw, path, value)
    assert read(Dia2Config.from_dict(raw)) == value


REQUIRED = [
    "data", "model", "runtime",
    "data.channels", "data.text_vocab_size", "data.audio_vocab_size", "data.text_pad_token_id",
    "data.text_new_word_token_id", "data.audio_pad_token_id", "data.audio_bos_token_id", "data.delay_pattern",
    "data.second_stream_ahead",
    *[f"model.{part}.{key}" for part in ("decoder", "depformer")
      for key in ("n_layer", "n_embd", "n_hidden", "gqa_query_heads", "kv_heads", "gqa_head_dim")],
    "model.decoder", "model.depformer", "model.depformer.apply_rope",
    "model.rope_min_timescale", "model.rope_max_timescale",
    "runtime.weights_schedule", "runtime.max_context_steps",
]


@pytest.mark.parametrize("path", REQUIRED)
def test_a_missing_required_key_is_named(raw, path):
    drop_key(raw, path)
    message = invalid(raw)
    assert "is missing" in message
    # the message names the key, or the first key under a removed section
    named = message.split("the key ")[1].split(" is missing")[0]
    assert named == path or named.startswith(path + ".")


@pytest.mark.parametrize("path, read, default", [
    ("data.text_zero_token_id", lambda c: c.data.text_zero, 7),
    ("model.normalization_layer_epsilon", lambda c: c.norm_eps, DEFAULT_NORM_EPSILON),
    ("model.depformer.text_embedding", lambda c: c.depformer_text_embedding, False),
    ("assets", lambda c: c.assets, {}),
])
def test_documented_optional_keys_get_their_defaults(raw, path, read, default):
    drop_key(raw, path)
    assert read(Dia2Config.from_dict(raw)) == default
    assert DEFAULT_NORM_EPSILON == 1e-5  # the reference code's default, not the 2B file's 1e-6


def test_keys_the_runtime_never_reads_may_be_absent(raw):
    for path in ("data.action_vocab_size", "data.action_pad_token_id", "data.action_new_word_token_id",
                 "data.first_word_min_start", "data.max_pad", "model.dropout"):
        drop_key(raw, path)
    assert Dia2Config.from_dict(raw).data.channels == 34


def test_linear_mlp_activations_apply_to_both_unless_a_part_names_its_own(raw):
    raw["model"]["linear"] = {"mlp_activations": ["gelu", "linear"]}
    assert "model.decoder: mlp_activations ['gelu', 'linear'] are not supported" in invalid(raw)
    for part in ("decoder", "depformer"):
        raw["model"][part]["mlp_activations"] = ["silu", "linear"]
    config = Dia2Config.from_dict(raw)
    assert config.decoder.mlp_activations == config.depformer.mlp_activations == ("silu", "linear")


@pytest.mark.parametrize("part", ["decoder", "depformer"])
def test_unsupported_mlp_activations_are_refused(raw, part):
    raw["model"][part]["mlp_activations"] = ["gelu", "linear"]
    message = invalid(raw)
    assert f"model.{part}: mlp_activations ['gelu', 'linear'] are not supported" in message
    assert "['silu', 'linear']" in message


@pytest.mark.parametrize("path, value", [
    ("data.channels", "34"), ("data.channels", 34.0), ("data.channels", True), ("data.channels", None),
    ("data.text_pad_token_id", [3]),
    ("data.text_zero_token_id", "7"), ("data.text_zero_token_id", 7.9), ("data.text_zero_token_id", True),
    ("data.delay_pattern", "2" * 32), ("data.delay_pattern", 32), ("data.delay_pattern", [2.5] * 32),
    ("data.delay_pattern", [True] * 32), ("data.delay_pattern", [-1] * 32), ("data.delay_pattern", {"0": 2}),
    ("runtime.weights_schedule", "0" * 31), ("runtime.weights_schedule", [0.0] * 31),
    ("runtime.weights_schedule", [None] * 31),
    ("runtime.max_context_steps", 1500.5),
    ("model.decoder.n_layer", "2"), ("model.depformer.gqa_head_dim", 8.0),
    ("model.depformer.apply_rope", "false"), ("model.depformer.apply_rope", 1),
    ("model.depformer.text_embedding", "false"),
    ("model.rope_min_timescale", "one"), ("model.rope_max_timescale", None), ("model.rope_max_timescale", True),
    ("model.normalization_layer_epsilon", "1e-6"),
    ("model.decoder.mlp_activations", "silu"), ("model.depformer.mlp_activations", 5),
    ("model.depformer.mlp_activations", ["silu", 1]),
], ids=lambda v: v if isinstance(v, str) and "." in v else repr(v)[:12])
def test_wrong_types_are_refused_naming_the_key(raw, path, value):
    set_key(raw, path, value)
    assert path in invalid(raw)


@pytest.mark.parametrize("section", ["model.decoder", "model"])
def test_a_section_that_is_not_an_object_is_refused(raw, section):
    set_key(raw, section, [1, 2])
    assert f"{section} must be an object" in invalid(raw)


@pytest.mark.parametrize("assets", ["mimi", ["mimi"], {"mimi": 5}, {"tokenizer": None}])
def test_assets_must_map_names_to_text(raw, assets):
    raw["assets"] = assets
    assert "assets must map names" in invalid(raw)


@pytest.mark.parametrize("path", [f"model.{part}.{key}" for part in ("decoder", "depformer")
                                  for key in ("n_layer", "n_embd", "n_hidden", "kv_heads")])
def test_sizes_must_be_positive(raw, path):
    set_key(raw, path, 0)
    part, key = path.split(".")[1:]
    assert f"model.{part}: {key} must be at least 1, not 0" in invalid(raw)


def test_query_heads_must_be_a_multiple_of_kv_heads(raw):
    raw["model"]["decoder"]["kv_heads"] = 3
    assert "model.decoder: gqa_query_heads must be a multiple of kv_heads" in invalid(raw)


def test_channels_must_be_two_text_streams_plus_the_codebooks(raw):
    raw["data"]["channels"] = 33
    message = invalid(raw)
    assert "data.channels is 33 but delay_pattern has 32 codebooks" in message


def test_a_shorter_delay_pattern_alone_is_inconsistent_with_channels(raw):
    raw["data"]["delay_pattern"] = raw["data"]["delay_pattern"][:31]
    assert "data.channels is 34 but delay_pattern has 31 codebooks" in invalid(raw)


@pytest.mark.parametrize("length", [30, 32, 0])
def test_weights_schedule_needs_one_entry_per_depformer_codebook(raw, length):
    raw["runtime"]["weights_schedule"] = [0] * length
    assert f"runtime.weights_schedule has {length} entries; the depformer predicts 31 codebooks" in invalid(raw)


def test_consistent_smaller_layout_loads(raw):
    # The checks are about consistency, not about the released sizes.
    raw["data"]["delay_pattern"] = [0, 1, 2]
    raw["data"]["channels"] = 5
    raw["runtime"]["weights_schedule"] = [7, 7]
    config = Dia2Config.from_dict(raw)
    assert (config.data.num_codebooks, config.data.max_delay, config.depformer_groups) == (3, 2, [7])


def test_depformer_text_embedding_is_refused(raw):
    raw["model"]["depformer"]["text_embedding"] = True
    assert "text_embedding is true" in invalid(raw)


def test_from_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "config.json"
    with pytest.raises(InvalidConfig, match="no config.json") as raised:
        Dia2Config.from_file(missing)
    assert str(missing) in str(raised.value)
    missing.write_text("{not json")
    with pytest.raises(InvalidConfig, match="cannot be read") as raised:
        Dia2Config.from_file(missing)
    assert str(missing) in str(raised.value)
    missing.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidConfig, match="cannot be read"):
        Dia2Config.from_file(missing)
    missing.write_text("[1, 2, 3]")
    with pytest.raises(InvalidConfig, match="is missing; this is not a Dia2 config") as raised:
        Dia2Config.from_file(missing)
    assert str(raised.value).startswith(str(missing))


# --- load_weights ---------------------------------------------------------------------------

def test_the_tiny_checkpoint_loads_exactly(config, tensors):
    model = meta_model(config)
    load_weights(model, WEIGHTS, torch.device("cpu"), torch.float32)
    state = model.state_dict()
    assert len(state) == len(tensors) == 148
    assert sum(t.numel() for t in state.values()) == 4_252_560
    for name, tensor in tensors.items():
        assert state[name].device.type == "cpu" and state[name].dtype == torch.float32, name
        assert torch.equal(state[name], tensor), name
    assert not any(p.is_meta for p in model.parameters())
    assert not any(b.is_meta for b in model.buffers())


def test_bfloat16_load_gives_bfloat16_parameters(config, tensors):
    model = meta_model(config)
    load_weights(model, WEIGHTS, torch.device("cpu"), torch.bfloat16)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    name = "transformer.layers.1.attn.q_proj.weight"
    assert torch.equal(model.state_dict()[name], tensors[name].to(torch.bfloat16))


def mismatch(config, path: Path) -> str:
    model = meta_model(config)
    with pytest.raises(CheckpointMismatch) as raised:
        load_weights(model, path, torch.device("cpu"), torch.float32)
    # Everything is checked before anything is loaded: no half-loaded model.
    assert all(p.is_meta for p in model.parameters())
    return str(raised.value)


def test_a_missing_tensor_is_named(config, tensors, tmp_path):
    changed = dict(tensors)
    del changed["depformer.logits.30.weight"]
    path = tmp_path / "model.safetensors"
    save_file(changed, path)
    assert mismatch(config, path) == ("model.safetensors lacks the tensor depformer.logits.30.weight; "
                                      "it does not match its config.json.")


def test_several_missing_tensors_name_the_first_and_count_the_rest(config, tensors, tmp_path):
    changed = {k: v for k, v in tensors.items() if not k.startswith("depformer.layers.1.")}
    path = tmp_path / "model.safetensors"
    save_file(changed, path)
    assert "lacks the tensor depformer.layers.1.mlp.wi.weight and 11 more" in mismatch(config, path)


def test_an_extra_tensor_is_named(config, tensors, tmp_path):
    changed = {**tensors, "transformer.extra_head.weight": torch.zeros(2, 32)}
    path = tmp_path / "model.safetensors"
    save_file(changed, path)
    assert "has an unexpected tensor transformer.extra_head.weight;" in mismatch(config, path)


@pytest.mark.parametrize("name, shape", [
    ("transformer.norm.weight", (33,)),
    ("transformer.layers.0.mlp.wo.weight", (64, 32)),  # transposed
    ("depformer.depformer_in.5.weight", (16, 32, 1)),
])
def test_a_mis_shaped_tensor_is_named_with_both_shapes(config, tensors, tmp_path, name, shape):
    expected = list(tensors[name].shape)
    changed = {**tensors, name: torch.zeros(shape)}
    path = tmp_path / "model.safetensors"
    save_file(changed, path)
    assert mismatch(config, path) == (f"model.safetensors: tensor {name} has shape {list(shape)}, "
                                      f"but the configuration needs {expected}.")


def test_a_config_with_more_layers_than_the_weights_names_the_first_missing_one(raw, tmp_path):
    raw["model"]["decoder"]["n_layer"] = 3
    message = mismatch(Dia2Config.from_dict(raw), WEIGHTS)
    assert "lacks the tensor transformer.layers.2." in message


def checkpoint_error(config, path: Path) -> CheckpointError:
    model = meta_model(config)
    with pytest.raises(CheckpointError) as raised:
        load_weights(model, path, torch.device("cpu"), torch.float32)
    assert not isinstance(raised.value, CheckpointMismatch)
    assert all(p.is_meta for p in model.parameters())
    return raised.value


def test_a_missing_file_is_a_checkpoint_error(config, tmp_path):
    error = checkpoint_error(config, tmp_path / "model.safetensors")
    assert str(error).startswith(f"model.safetensors is missing from {tmp_path}")


@pytest.mark.parametrize("content", [b"", b"garbage, not a header", b"\x08\x00\x00\x00\x00\x00\x00\x00{bad json",
                                     b"\xff" * 64], ids=["empty", "text", "bad-header", "huge-length"])
def test_a_garbage_safetensors_file_is_a_checkpoint_error(config, tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    assert "is not a readable safetensors file" in str(checkpoint_error(config, path))


def test_a_truncated_safetensors_file_is_a_checkpoint_error(config, tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(WEIGHTS.read_bytes()[: WEIGHTS.stat().st_size // 2])
    assert "is not a readable safetensors file" in str(checkpoint_error(config, path))


class _RunsCodeWhenUnpickled:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def test_pickle_files_are_never_unpickled(config, tensors, tmp_path):
    proof = tmp_path / "proof"
    payload = pickle.dumps(_RunsCodeWhenUnpickled(proof))
    pickle.loads(payload)  # the payload is live: unpickling it does run code
    assert proof.is_dir()

    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_RunsCodeWhenUnpickled(marker))
    for name in ("pytorch_model.bin", "model.pt", "model.ckpt", "model.safetensors"):
        path = tmp_path / name
        path.write_bytes(payload)
        error = checkpoint_error(config, path)
        assert not marker.exists(), name
        if name != "model.safetensors":
            assert str(error).startswith(f"{name} is not a safetensors file")
    torch_file = tmp_path / "torch.bin"
    torch.save({"transformer.norm.weight": tensors["transformer.norm.weight"]}, torch_file)
    assert "is not a safetensors file" in str(checkpoint_error(config, torch_file))


def test_error_types_are_checkpoint_errors():
    assert issubclass(CheckpointMismatch, CheckpointError)
    assert issubclass(ModelUnavailable, CheckpointError)
    assert issubclass(CheckpointError, DiaStudioError)


# --- resolve and is_hub_id ------------------------------------------------------------------

def test_resolve_local_fixture_uses_its_assets_block():
    assert resolve(CHECKPOINT) == CheckpointFolders(model=CHECKPOINT, tokenizer=CHECKPOINT, codec=CHECKPOINT / "mimi")
    assert resolve(str(CHECKPOINT)) == resolve(CHECKPOINT)


def write_model_folder(folder: Path, raw: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(raw))
    return folder


def test_resolve_follows_relative_asset_folders(raw, tmp_path):
    raw["assets"] = {"tokenizer": "text/tok", "mimi": "../shared/codec"}
    folder = write_model_folder(tmp_path / "model", raw)
    (folder / "text" / "tok").mkdir(parents=True)
    (tmp_path / "shared" / "codec").mkdir(parents=True)
    folders = resolve(folder)
    assert folders.model == folder
    assert folders.tokenizer.resolve() == (folder / "text" / "tok").resolve()
    assert folders.codec.resolve() == (tmp_path / "shared" / "codec").resolve()


def test_resolve_refuses_an_asset_that_is_neither_a_folder_nor_a_hub_id(raw, tmp_path):
    raw["assets"] = {"tokenizer": ".", "mimi": "codec_missing"}
    folder = write_model_folder(tmp_path / "model", raw)
    with pytest.raises(CheckpointError, match="refers to codec_missing, which is neither a folder"):
        resolve(folder)


def test_resolve_refuses_a_file_or_a_missing_folder(tmp_path, monkeypatch):
    with pytest.raises(CheckpointError, match="is not a folder"):
        resolve(CONFIG_FILE)
    with pytest.raises(CheckpointError, match="is not a folder"):
        resolve(tmp_path / "nowhere")
    monkeypatch.chdir(tmp_path)
    # Mistyped relative paths are not Hub ids: the user gets a folder error, not a Hub error.
    for name in ("models/my dia", "C:/models"):
        with pytest.raises(CheckpointError, match="is not a folder"):
            resolve(name)


def test_resolve_a_folder_without_config(tmp_path):
    with pytest.raises(InvalidConfig, match="no config.json"):
        resolve(tmp_path)


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """No way to reach the Hub: every proxy points at a closed local port, and an empty cache."""
    import huggingface_hub

    for name in ("NO_PROXY", "no_proxy", "HF_HUB_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    huggingface_hub.close_session()  # the next session reads the proxy settings
    yield tmp_path / "cache"
    huggingface_hub.close_session()


@pytest.fixture
def offline(no_network, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read once, at import
    return no_network


def assert_unavailable(name: str, cache: Path, expected_id: str | None = None) -> None:
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as raised:
        resolve(name, cache_dir=cache)
    message = str(raised.value)
    assert message.startswith(f"{expected_id or name} is not downloaded yet")
    assert "Connect to the internet" in message and "open a folder that already holds the model" in message
    assert time.monotonic() - started < 15
    assert not cache.exists() or not any(cache.rglob("*.safetensors"))


@pytest.mark.parametrize("hub_id", ["nari-labs/Dia2-2B", "nari-labs/Dia2-1B"])
def test_hub_id_offline_with_an_empty_cache(offline, hub_id):
    assert_unavailable(hub_id, offline)


def test_hub_id_with_an_unreachable_network(no_network):
    assert_unavailable("nari-labs/Dia2-2B", no_network)


@pytest.fixture
def hanging_up_proxy(no_network, monkeypatch):
    """A real local proxy that accepts each connection and closes it at once."""
    import huggingface_hub

    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    requests: list[bytes] = []

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                requests.append(connection.recv(200))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.getsockname()[1]}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, address)
    huggingface_hub.close_session()
    yield no_network, requests
    stop.set()
    thread.join(5)
    server.close()


def test_a_connection_cut_by_the_proxy_is_model_unavailable(hanging_up_proxy):
    cache, requests = hanging_up_proxy
    with pytest.raises(ModelUnavailable) as raised:
        resolve("nari-labs/Dia2-2B", cache_dir=cache)
    assert requests and requests[0].startswith(b"CONNECT huggingface.co:443")  # it went through the proxy
    message = str(raised.value)
    assert message.startswith("Downloading nari-labs/Dia2-2B failed: the connection broke")
    assert "open a folder that already holds the model" in message


def test_local_model_without_assets_needs_the_hub_codec(raw, tmp_path, offline):
    del raw["assets"]  # the released 2B layout: the codec is kyutai/mimi
    folder = write_model_folder(tmp_path / "model", raw)
    with pytest.raises(ModelUnavailable) as raised:
        resolve(folder, cache_dir=offline)
    assert str(raised.value).startswith("kyutai/mimi is not downloaded yet")


@pytest.mark.parametrize("name, expected", [
    ("nari-labs/Dia2-2B", True), ("kyutai/mimi", True), ("org_1/model.v2", True),
    ("dia2-2b", False), ("", False), ("a/b/c", False), ("/abs/path", False), ("./org/name", False),
    ("../org/name", False), ("~/models", False), ("models/my dia", False), ("C:/models", False),
    ("C:\\models\\dia", False), ("org/-name", False), ("org/name.", False), ("org/na--me", False),
    ("org/na..me", False), ("org/", False), ("/name", False),
])
def test_is_hub_id(name, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_hub_id(name) is expected


def test_an_existing_local_folder_is_not_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_hub_id("org/name")
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert not is_hub_id("org/name")


# --- the tokenizer --------------------------------------------------------------------------

def test_fixture_tokenizer_speaker_ids_and_bos_fallback():
    tokenizer = TextTokenizer(CHECKPOINT)
    assert tokenizer.speaker_ids == {"[S1]": 384, "[S2]": 385}
    # The file's bos is <|endoftext|> = id 0, which the reference treats as missing and replaces by 1.
    assert tokenizer._tokenizer.token_to_id("<|endoftext|>") == 0
    assert tokenizer.text_bos == FALLBACK_TEXT_BOS == 1
    assert tokenizer.encode("[S1] Hi")[0] == 384
    assert 0 not in tokenizer.encode("Hi")  # no special tokens added


def copy_tokenizer(tmp_path: Path, names=TOKENIZER_FILES) -> Path:
    folder = tmp_path / "tok"
    folder.mkdir()
    for name in names:
        shutil.copy(CHECKPOINT / name, folder / name)
    return folder


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_speaker_ids_are_read_from_the_tokenizer(tmp_path):
    folder = copy_tokenizer(tmp_path)

    def swap(data):
        for token in data["added_tokens"]:
            token["content"] = {"[S1]": "[S2]", "[S2]": "[S1]"}.get(token["content"], token["content"])
    edit_json(folder / "tokenizer.json", swap)
    assert TextTokenizer(folder).speaker_ids == {"[S1]": 385, "[S2]": 384}


def test_a_non_zero_bos_is_read_from_tokenizer_config(tmp_path):
    folder = copy_tokenizer(tmp_path)
    edit_json(folder / "tokenizer_config.json", lambda d: d.update(bos_token="[S2]"))
    assert TextTokenizer(folder).text_bos == 385


def test_bos_from_special_tokens_map_when_tokenizer_config_has_none(tmp_path):
    folder = copy_tokenizer(tmp_path)
    edit_json(folder / "tokenizer_config.json", lambda d: d.pop("bos_token"))
    edit_json(folder / "special_tokens_map.json", lambda d: d.update(bos_token={"content": "[S1]"}))
    assert TextTokenizer(folder).text_bos == 384


@pytest.mark.parametrize("case", ["no-config-files", "unknown-bos-token"])
def test_bos_falls_back_to_1(tmp_path, case):
    if case == "no-config-files":
        folder = copy_tokenizer(tmp_path, ["tokenizer.json"])
    else:
        folder = copy_tokenizer(tmp_path)
        edit_json(folder / "tokenizer_config.json", lambda d: d.update(bos_token="<s>"))
    assert TextTokenizer(folder).text_bos == 1


def test_a_folder_without_tokenizer_json_is_a_checkpoint_error(tmp_path):
    folder = copy_tokenizer(tmp_path, ["tokenizer_config.json"])
    with pytest.raises(CheckpointError, match="cannot be read") as raised:
        TextTokenizer(folder)
    assert str(folder / "tokenizer.json") in str(raised.value)


def test_a_garbage_tokenizer_json_is_a_checkpoint_error(tmp_path):
    folder = copy_tokenizer(tmp_path)
    (folder / "tokenizer.json").write_text("not json")
    with pytest.raises(CheckpointError, match="cannot be read"):
        TextTokenizer(folder)


@pytest.mark.parametrize("tag", ["[S1]", "[S2]"])
def test_a_tokenizer_without_a_speaker_tag_is_a_checkpoint_error(tmp_path, tag):
    folder = copy_tokenizer(tmp_path)
    edit_json(folder / "tokenizer.json",
              lambda d: d.update(added_tokens=[t for t in d["added_tokens"] if t["content"] != tag]))
    with pytest.raises(CheckpointError) as raised:
        TextTokenizer(folder)
    assert str(raised.value) == f"The tokenizer in {folder} has no {tag} token; it is not a Dia2 tokenizer."


def test_download_progress_reports_the_furthest_byte_count():
    from core.dia2.checkpoint import _progress_bar_class

    reports = []
    bar_class = _progress_bar_class(lambda done, total, what: reports.append((done, total, what)), "org/model")
    received = bar_class(total=1000, unit="B")
    written = bar_class(total=1000, unit="B")
    files = bar_class(total=3)  # counts files, not bytes: never reported
    received.update(400)
    written.update(300)
    files.update(1)
    written.update(200)
    assert reports == [(400, 1000, "org/model"), (400, 1000, "org/model"), (500, 1000, "org/model")]
