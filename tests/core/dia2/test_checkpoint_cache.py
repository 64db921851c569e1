"""Downloads that are cancelled (through huggingface_hub, from a Hub served on this machine), and
models deleted from the Hub cache, on real files in a temporary Hugging Face cache."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from huggingface_hub import scan_cache_dir, try_to_load_from_cache

from core.dia2.checkpoint import WEIGHTS_FILE, DownloadCancelled, ModelUnavailable, cancellable, download
from core.dia2.model_cache import ModelCacheError, delete_from_cache, sizes_on_disk
from core.errors import Cancelled
from tests.hub_cache import put_in_hub_cache, use_temporary_hub_cache
from tests.local_hub import PIECE, serve_hub


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    return use_temporary_hub_cache(tmp_path, monkeypatch)


def installed(repo_id: str, name: str = WEIGHTS_FILE) -> bool:
    return isinstance(try_to_load_from_cache(repo_id, name), str)


# --- cancelling a download --------------------------------------------------------------------

@pytest.fixture
def weights() -> bytes:
    return os.urandom(40 * PIECE)


@pytest.fixture
def local_hub(hub_cache, weights, monkeypatch):
    hub = serve_hub({"org/model": {"config.json": b"{}", WEIGHTS_FILE: weights}}, monkeypatch)
    yield hub
    hub.stop()


def test_a_cancelled_download_stops_within_a_piece_and_a_later_one_goes_on(local_hub, weights):
    files = ["config.json", WEIGHTS_FILE]
    download("org/model", ["config.json"])  # fetched earlier (or finished before the cancel)
    cancel = threading.Event()
    reports: list[int] = []

    def progress(done, total, what):
        reports.append(done)
        if done >= 8 * PIECE:
            cancel.set()  # the person presses Cancel

    with pytest.raises(DownloadCancelled) as raised:
        download("org/model", files, cancellable(progress, cancel))
    assert isinstance(raised.value, Cancelled) and not isinstance(raised.value, ModelUnavailable)
    assert str(raised.value) == "Download of org/model cancelled."
    assert 8 * PIECE <= max(reports) <= 10 * PIECE  # stopped at the next piece, far from the end
    assert installed("org/model", "config.json") and not installed("org/model")  # not installed

    folder = download("org/model", files, cancellable(progress, threading.Event()))
    # What the cache held was kept; only the weights were fetched again.
    assert local_hub.fetched == ["org/model/config.json", f"org/model/{WEIGHTS_FILE}", f"org/model/{WEIGHTS_FILE}"]
    assert (folder / WEIGHTS_FILE).read_bytes() == weights and installed("org/model")


# --- the room models take, and deleting them --------------------------------------------------

def test_each_model_in_the_cache_has_its_size_on_disk(hub_cache):
    assert sizes_on_disk() == {}  # nothing downloaded yet: no cache folder at all
    put_in_hub_cache(hub_cache, "nari-labs/Dia2-1B", {"config.json": b"{}", WEIGHTS_FILE: bytes(3000)})
    put_in_hub_cache(hub_cache, "kyutai/mimi", {WEIGHTS_FILE: b"x" * 500})
    assert sizes_on_disk() == {"nari-labs/Dia2-1B": 3002, "kyutai/mimi": 500}


def test_deleting_a_model_removes_all_its_files_and_nothing_else(hub_cache):
    put_in_hub_cache(hub_cache, "nari-labs/Dia2-1B", {"config.json": b"{}", WEIGHTS_FILE: bytes(3000)})
    put_in_hub_cache(hub_cache, "nari-labs/Dia2-1B", {WEIGHTS_FILE: bytes(2000)}, revision=1)
    put_in_hub_cache(hub_cache, "kyutai/mimi", {WEIGHTS_FILE: b"x" * 500})
    assert installed("nari-labs/Dia2-1B")

    assert delete_from_cache("nari-labs/Dia2-1B") == 5002  # both revisions
    assert not installed("nari-labs/Dia2-1B")
    assert not (hub_cache / "models--nari-labs--Dia2-1B").exists()
    assert [repo.repo_id for repo in scan_cache_dir(hub_cache).repos] == ["kyutai/mimi"] and installed("kyutai/mimi")


def test_deleting_a_model_that_is_not_in_the_cache_says_so(hub_cache):
    with pytest.raises(ModelCacheError, match="nari-labs/Dia2-2B is not in the Hugging Face cache"):
        delete_from_cache("nari-labs/Dia2-2B")
    put_in_hub_cache(hub_cache, "kyutai/mimi", {WEIGHTS_FILE: b"x"})
    with pytest.raises(ModelCacheError, match="nothing to delete"):
        delete_from_cache("nari-labs/Dia2-2B")
