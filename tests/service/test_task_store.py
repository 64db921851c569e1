"""The task store on its own: what a result's ttl means, torn writes, repeated task UUIDs."""

import time
import uuid

import pytest

from core.service.api_errors import ApiError
from core.service.task_store import TaskStore


def _store_with_result(tmp_path, keep_s: float):
    store = TaskStore(tmp_path)
    task_uuid = str(uuid.uuid4())
    store.submit(task_uuid, {"taskUUID": task_uuid}, {"seed": 1}, 1, queue_limit=10)
    result = store.add_result(task_uuid, 0, 1, ".wav", b"RIFF....", 1.0, 0.5, keep_s)
    return store, task_uuid, result


def test_a_result_past_its_ttl_is_deleted_file_first(tmp_path):
    store, task_uuid, result = _store_with_result(tmp_path, keep_s=60)
    assert store.expire(now=time.time() + 30) == []
    assert (store.media_dir / result.file).exists()
    assert store.expire(now=time.time() + 61) == [task_uuid]
    assert not (store.media_dir / result.file).exists()
    assert store.result_by_audio(result.audio_uuid) is None and store.results(task_uuid) == []


def test_results_and_tasks_outlive_the_store_object(tmp_path):
    store, task_uuid, result = _store_with_result(tmp_path, keep_s=3600)
    store.close()
    again = TaskStore(tmp_path)
    assert again.results(task_uuid) == [result]
    assert again.read_media(result) == b"RIFF...."


def test_a_torn_media_write_is_removed_when_the_store_opens(tmp_path):
    store, _, _ = _store_with_result(tmp_path, keep_s=3600)
    torn = store.media_dir / ".abc.wav.1234.part"
    torn.write_bytes(b"half")
    store.close()
    TaskStore(tmp_path)
    assert not torn.exists()


def test_a_repeated_task_uuid_is_a_retry_or_a_conflict(tmp_path):
    store = TaskStore(tmp_path)
    task_uuid = str(uuid.uuid4())
    body = {"taskUUID": task_uuid, "seed": 1}
    assert store.submit(task_uuid, body, {}, 1, queue_limit=10) is True
    assert store.submit(task_uuid, dict(reversed(list(body.items()))), {}, 1, queue_limit=10) is False
    with pytest.raises(ApiError) as conflict:
        store.submit(task_uuid, {**body, "seed": 2}, {}, 1, queue_limit=10)
    assert conflict.value.code == "conflictTaskUUID" and conflict.value.http_status == 409


def test_the_same_voice_twice_is_one_entry(tmp_path):
    store = TaskStore(tmp_path)
    first = store.store_media(b"audio bytes", ".wav")
    store.set_media_words(first.media_uuid, [["Hi", 0.1, 0.4]])
    second = store.store_media(b"audio bytes", ".wav")
    assert second.media_uuid == first.media_uuid and second.words == [["Hi", 0.1, 0.4]]


def test_voices_encoded_for_studios_are_kept_per_model_and_the_least_recently_used_go_first(tmp_path, monkeypatch):
    import numpy as np

    from core.service import task_store

    monkeypatch.setattr(task_store, "ENGINE_VOICES_KEPT", 2)
    store = TaskStore(tmp_path)
    codes = {name: np.arange(6).reshape(2, 3) + 10 * index for index, name in enumerate("abc")}
    store.keep_engine_voice("a", "model-1", codes["a"])
    store.keep_engine_voice("b", "model-1", codes["b"])
    np.testing.assert_array_equal(store.engine_voice("a", "model-1"), codes["a"])  # a is now the more recent
    assert store.engine_voice("a", "model-2") is None  # another model's codec: encoded again
    store.keep_engine_voice("c", "model-1", codes["c"])
    assert store.engine_voice("b", "model-1") is None
    store.close()
    again = TaskStore(tmp_path)
    np.testing.assert_array_equal(again.engine_voice("a", "model-1"), codes["a"])
    np.testing.assert_array_equal(again.engine_voice("c", "model-1"), codes["c"])
    assert again.engine_voice("a", "model-1").dtype == np.int64
