"""Models in the Hugging Face Hub cache: the room each one takes, and deleting one.

Deleting goes through huggingface_hub's own cache management (``scan_cache_dir``,
``delete_revisions``), which removes a repo's refs, snapshots and files in a safe order and knows
the cache's layout; no folder is ever removed by hand here.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import DiaStudioError


class ModelCacheError(DiaStudioError):
    """A model cannot be deleted from the Hub cache; the message says why."""


def sizes_on_disk(cache_dir: str | Path | None = None) -> dict[str, int]:
    """Bytes each model in the cache takes, by Hub id (an empty or missing cache: none)."""
    info = _scan(cache_dir)
    return {} if info is None else {repo.repo_id: repo.size_on_disk for repo in info.repos
                                    if repo.repo_type == "model"}


def delete_from_cache(repo_id: str, cache_dir: str | Path | None = None) -> int:
    """Delete every downloaded revision of the model ``repo_id``; returns the bytes freed."""
    info = _scan(cache_dir)
    repo = None if info is None else next(
        (repo for repo in info.repos if repo.repo_id == repo_id and repo.repo_type == "model"), None)
    if repo is None or not repo.revisions:
        raise ModelCacheError(f"{repo_id} is not in the Hugging Face cache; there is nothing to delete.")
    strategy = info.delete_revisions(*(revision.commit_hash for revision in repo.revisions))
    strategy.execute()  # logs what it cannot delete instead of raising
    if repo.repo_path.exists():
        raise ModelCacheError(f"{repo_id} could not be deleted completely from the Hugging Face cache; "
                              f"check the permissions of {repo.repo_path}.")
    return strategy.expected_freed_size


def _scan(cache_dir: str | Path | None):
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        # The cache downloads use, read now: scan_cache_dir's own default is fixed at import.
        return scan_cache_dir(cache_dir or constants.HF_HUB_CACHE)
    except CacheNotFound:  # nothing was ever downloaded
        return None
