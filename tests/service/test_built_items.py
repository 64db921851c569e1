"""The items a task service keeps built for getResponse are bounded in the audio they hold, not
only in tasks: a soak (bench/soak.py) found a server's memory growing by every base64Data and
dataURI result it answered, until 1024 tasks' files were held in memory."""

import asyncio
import uuid

from core.service.task_service import BuiltItems


def _items(task: str, audio_chars: int) -> list[dict]:
    return [{"taskUUID": task, "status": "success", "audioBase64Data": "A" * audio_chars}]


def test_the_oldest_tasks_items_go_once_their_audio_passes_the_bound():
    built = BuiltItems(tasks=10, audio_bytes=1000)
    for index in range(5):
        built.keep((f"task-{index}", None), 1, _items(f"task-{index}", 300))
    assert built.audio_bytes_held == 900
    assert [built.get((f"task-{index}", None), 1) is not None for index in range(5)] == [False, False, True, True, True]
    assert built.get(("task-4", None), 2) is None  # the task changed since: built again


def test_items_without_audio_are_bounded_in_tasks_and_a_task_above_the_bound_is_not_kept():
    built = BuiltItems(tasks=3, audio_bytes=1000)
    for index in range(5):
        built.keep((f"task-{index}", None), 1, [{"taskUUID": f"task-{index}", "status": "processing"}])
    assert [built.get((f"task-{index}", None), 1) is not None for index in range(5)] == [False, False, True, True, True]
    built.keep(("big", None), 1, _items("big", 1001))
    assert built.get(("big", None), 1) is None and built.audio_bytes_held == 0


def test_a_service_answering_base64_results_holds_at_most_the_bound(tiny_service):
    service = tiny_service
    service.built_items.audio_bytes = 150_000
    for seed in range(4):
        task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": seed, "outputType": "base64Data",
                "outputFormat": "WAV", "speech": {"text": "[S1] Hello there, how are you today? [S2] Fine."}}
        answer = asyncio.run(service.handle([task], None, "http://127.0.0.1/"))
        (item,) = answer.data
        assert len(item["audioBase64Data"]) > 60_000  # each result's file is in its item
        assert service.items_of(task["taskUUID"], "http://127.0.0.1/") == answer.data  # the same answer again
        assert service.built_items.audio_bytes_held <= 150_000
