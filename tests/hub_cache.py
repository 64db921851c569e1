"""A temporary Hugging Face Hub cache with real files in the hub layout (blobs, snapshots of
links to them, refs), standing in for the person's cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import huggingface_hub.constants
import pytest


def use_temporary_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Move the default Hugging Face cache into the test's folder; returns the cache folder."""
    cache = tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))  # read once, at import
    return cache


def commit_of(repo_id: str, revision: int = 0) -> str:
    """A commit hash: unique across repos, as on the Hub (the cache API relies on it)."""
    return hashlib.sha1(f"{repo_id}@{revision}".encode()).hexdigest()


def put_in_hub_cache(cache: Path, repo_id: str, files: dict[str, bytes], revision: int = 0) -> Path:
    """Store files as huggingface_hub does; returns the snapshot folder."""
    commit = commit_of(repo_id, revision)
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot
