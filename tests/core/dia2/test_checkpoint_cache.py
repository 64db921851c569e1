"""Downloads that are cancelled, and models deleted from the Hub cache, on real files in a
temporary Hugging Face cache (the hub layout: blobs, snapshots of links to them, refs)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import huggingface_hub
import huggingface_hub.constants
import pytest
from huggingface_hub import scan_cache_dir, try_to_load_from_cache

from core.dia2.checkpoint import WEIGHTS_FILE, DownloadCancelled, ModelUnavailable, cancellable, download
from core.dia2.model_cache import ModelCacheError, delete_from_cache, sizes_on_disk
from core.errors import Cancelled
from tests.hub_cache import commit_of, put_in_hub_cache, use_temporary_hub_cache

CHUNK = 1024


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    return use_temporary_hub_cache(tmp_path, monkeypatch)


class FakeHub:
    """Behind ``huggingface_hub.snapshot_download``'s interface: sends each file chunk by chunk,
    counting the bytes on a byte bar of the given tqdm class as the real one does; a file enters
    the cache once complete, and files already cached are not fetched again."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.fetched: list[str] = []

    def __call__(self, repo_id, *, allow_patterns, cache_dir, tqdm_class):
        cache = Path(cache_dir or huggingface_hub.constants.HF_HUB_CACHE)
        snapshot = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots" / commit_of(repo_id)
        missing = [name for name in allow_patterns if name in self.files and not (snapshot / name).exists()]
        bar = tqdm_class(total=sum(len(self.files[name]) for name in missing), unit="B")
        for name in missing:
            self.fetched.append(name)
            data = self.files[name]
            for start in range(0, len(data), CHUNK):
                bar.update(len(data[start:start + CHUNK]))
            put_in_hub_cache(cache, repo_id, {name: data})
        return str(snapshot)


def installed(repo_id: str, name: str = WEIGHTS_FILE) -> bool:
    return isinstance(try_to_load_from_cache(repo_id, name), str)


# --- cancelling a download --------------------------------------------------------------------

def test_a_cancelled_download_stops_within_a_chunk_and_a_later_one_resumes(hub_cache, monkeypatch):
    weights = os.urandom(10 * CHUNK)
    hub = FakeHub({"config.json": b"{}", WEIGHTS_FILE: weights})
    monkeypatch.setattr(huggingface_hub, "snapshot_download", hub)
    cancel = threading.Event()
    reports: list[int] = []

    def progress(done, total, what):
        reports.append(done)
        if done >= 4 * CHUNK:
            cancel.set()  # the person presses Cancel

    with pytest.raises(DownloadCancelled) as raised:
        download("org/model", ["config.json", WEIGHTS_FILE], cancellable(progress, cancel))
    assert isinstance(raised.value, Cancelled) and not isinstance(raised.value, ModelUnavailable)
    assert str(raised.value) == "Download of org/model cancelled."
    assert max(reports) < len(weights) and reports[-1] == max(reports)  # nothing reported after
    assert installed("org/model", "config.json") and not installed("org/model")

    reports.clear()
    folder = download("org/model", ["config.json", WEIGHTS_FILE], cancellable(progress, threading.Event()))
    assert hub.fetched == ["config.json", WEIGHTS_FILE, WEIGHTS_FILE]  # the finished file is kept
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
