"""Finding a Dia2 checkpoint (a local folder or a Hub id) and loading its tensors, verified
against the model's own layout, straight onto the target device.

Only safetensors files are read: nothing here unpickles, and no remote code ever runs.
"""

from __future__ import annotations

import importlib
import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from safetensors import safe_open
from torch import nn

from core.dia2.config import Dia2Config
from core.errors import Cancelled, DiaStudioError

HUB_MODELS = ("nari-labs/Dia2-2B", "nari-labs/Dia2-1B")
MIMI_HUB_ID = "kyutai/mimi"
WEIGHTS_FILE = "model.safetensors"
# What a model repo must hold for us; anything else in it (demo wavs, docs) is not downloaded.
MODEL_FILES = ["config.json", WEIGHTS_FILE, "tokenizer.json", "tokenizer_config.json",
               "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt"]
CODEC_FILES = ["config.json", WEIGHTS_FILE, "preprocessor_config.json"]

# (bytes done, bytes total, what is being fetched)
ProgressCallback = Callable[[int, int, str], None]


class CheckpointError(DiaStudioError):
    """A checkpoint cannot be used: its files are missing, malformed or do not match the model."""


class CheckpointMismatch(CheckpointError):
    """The weights file does not have exactly the tensors the configuration describes."""


class ModelUnavailable(CheckpointError):
    """A Hub model is neither on disk nor downloadable (offline, unknown id, disk full...)."""


class DownloadCancelled(Cancelled):
    """The person cancelled a download: the files it had finished stay in the cache and are not
    fetched again; the model is not installed until every file is there."""


def cancellable(progress: ProgressCallback, cancel: threading.Event) -> ProgressCallback:
    """``progress``, raising :class:`DownloadCancelled` once ``cancel`` is set. huggingface_hub
    reports every chunk it receives through it, so a download stops within a chunk."""

    def report(done: int, total: int, what: str) -> None:
        if cancel.is_set():
            raise DownloadCancelled(f"Download of {what} cancelled.")
        progress(done, total, what)

    return report


@dataclass(frozen=True)
class CheckpointFolders:
    model: Path
    tokenizer: Path
    codec: Path


# The Hub's own rule for "owner/name"; anything else (a mistyped path, "C:/models") is a local path.
HUB_ID = re.compile(r"(?!.*(--|\.\.))[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?/[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?",
                    re.ASCII)


def is_hub_id(name: str) -> bool:
    return HUB_ID.fullmatch(name) is not None and not Path(name).expanduser().exists()


def download(repo_id: str, files: list[str], progress: ProgressCallback | None = None,
             cache_dir: str | Path | None = None) -> Path:
    """Fetch ``files`` of a Hub repo into the local cache and return the snapshot folder. Files
    already cached are not fetched again. An error ``progress`` raises (DownloadCancelled) stops
    the download and is raised as it is."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo_id, allow_patterns=files, cache_dir=cache_dir,
                                   tqdm_class=_progress_bar_class(progress, repo_id) if progress else None)
    except LocalEntryNotFoundError:
        raise ModelUnavailable(
            f"{repo_id} is not downloaded yet and the Hugging Face Hub cannot be reached. Connect to "
            "the internet and try again, or open a folder that already holds the model.") from None
    except HfHubHTTPError as error:
        raise ModelUnavailable(f"Downloading {repo_id} failed: {error}") from None
    except OSError as error:
        raise ModelUnavailable(f"Downloading {repo_id} failed: {error.strerror or error}. "
                               "Check the free disk space and the network.") from None
    except _transport_errors() as error:  # the Hub re-raises proxy and dropped-connection errors
        raise ModelUnavailable(f"Downloading {repo_id} failed: the connection broke "
                               f"({str(error) or type(error).__name__}). "
                               "Check the network and proxy settings and try again, or open a folder that "
                               "already holds the model.") from None
    return Path(folder)


def _transport_errors() -> tuple[type[Exception], ...]:
    """The network errors of the HTTP client huggingface_hub uses (httpx2 or httpx, by version)."""
    errors = []
    for module in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module).TransportError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _progress_bar_class(progress: ProgressCallback, label: str):
    """A tqdm class that forwards byte counts to ``progress``: huggingface_hub reports through
    tqdm. It keeps two byte bars (bytes received, bytes written); the furthest one is reported."""
    from tqdm.auto import tqdm

    byte_bars: list[tqdm] = []

    class CallbackBar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()  # count, never draw: the caller shows the progress
            super().__init__(*args, **kwargs)
            if self.unit == "B":
                byte_bars.append(self)

        def update(self, n=1):
            super().update(n)
            if self.unit == "B":
                furthest = max(byte_bars, key=lambda bar: bar.n)
                progress(int(furthest.n), int(furthest.total or 0), label)

    return CallbackBar


def resolve(model: str | Path, progress: ProgressCallback | None = None,
            cache_dir: str | Path | None = None) -> CheckpointFolders:
    """A local folder or Hub id → the folders of weights, tokenizer and codec.

    The codec and tokenizer locations come from the config's optional ``assets`` block
    (paths relative to the model folder, or Hub ids); by default the tokenizer sits beside the
    weights and the codec is ``kyutai/mimi``.
    """
    name = str(model)
    if is_hub_id(name):
        folder = download(name, MODEL_FILES, progress, cache_dir)
    else:
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise CheckpointError(f"{folder} is not a folder. Open the folder that holds the model's "
                                  "config.json and model.safetensors.")
    config = Dia2Config.from_file(folder / "config.json")
    tokenizer = _asset(folder, config.assets.get("tokenizer"), folder, MODEL_FILES, progress, cache_dir)
    codec = _asset(folder, config.assets.get("mimi"), MIMI_HUB_ID, CODEC_FILES, progress, cache_dir)
    return CheckpointFolders(model=folder, tokenizer=tokenizer, codec=codec)


def _asset(folder: Path, named: str | None, default: str | Path, files: list[str],
           progress: ProgressCallback | None, cache_dir) -> Path:
    target = named if named is not None else default
    local = (folder / target) if named is not None else Path(target)
    if local.is_dir():
        return local
    if is_hub_id(str(target)):
        return download(str(target), files, progress, cache_dir)
    raise CheckpointError(f"The model refers to {target}, which is neither a folder beside it nor a Hub id.")


def load_weights(module: nn.Module, path: Path, device: torch.device, dtype: torch.dtype) -> None:
    """Fill ``module`` (built on the meta device) from a safetensors file.

    Every tensor goes from the file to ``device`` one at a time and is cast there, so the whole
    model never sits in RAM twice. A missing, extra or mis-shaped tensor raises an error that
    names it.
    """
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing from {path.parent}; Dia2 weights come as "
                              f"{WEIGHTS_FILE}.")
    if path.suffix != ".safetensors":
        raise CheckpointError(f"{path.name} is not a safetensors file; Dia2 weights come as {WEIGHTS_FILE} "
                              "(other formats can run code when opened, so they are never read).")
    expected = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    try:
        handle = safe_open(str(path), framework="pt", device=str(device))
    except Exception as error:  # safetensors raises its own, untyped errors for a bad header
        raise CheckpointError(f"{path} is not a readable safetensors file: {error}") from None
    with handle:
        found = set(handle.keys())
        _check_names(expected, found, path)
        for name, shape in expected.items():
            actual = tuple(handle.get_slice(name).get_shape())
            if actual != shape:
                raise CheckpointMismatch(f"{path.name}: tensor {name} has shape {list(actual)}, but the "
                                         f"configuration needs {list(shape)}.")
        state = {name: handle.get_tensor(name).to(dtype) for name in expected}
    module.load_state_dict(state, strict=True, assign=True)


def _check_names(expected: dict[str, tuple], found: set[str], path: Path) -> None:
    missing = sorted(set(expected) - found)
    extra = sorted(found - set(expected))
    if missing:
        raise CheckpointMismatch(f"{path.name} lacks the tensor {missing[0]}"
                                 + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                                 + "; it does not match its config.json.")
    if extra:
        raise CheckpointMismatch(f"{path.name} has an unexpected tensor {extra[0]}"
                                 + (f" and {len(extra) - 1} more" if len(extra) > 1 else "")
                                 + "; it does not match its config.json.")
