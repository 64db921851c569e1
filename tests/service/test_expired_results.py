"""A task whose results' ttl is over is not found, as docs/server.md says (taskFailedOrNotFound,
404): the soak (bench/soak.py) found getResponse answering such a task with no item and no error,
which a polling client reads as "nothing yet" and polls for ever."""

import asyncio
import time
import uuid

import pytest

from core.service.api_errors import ApiError


def test_get_response_after_the_ttl_answers_task_not_found(tiny_service):
    service = tiny_service
    task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 3, "ttl": 60, "outputType": "URL",
            "outputFormat": "WAV", "speech": {"text": "[S1] Gone in a minute."}}
    answer = asyncio.run(service.handle([task], None, "http://127.0.0.1/"))
    assert [item["status"] for item in answer.data] == ["success"]

    kept = len(service.runner.changes)
    service.runner.results_expired(service.store.expire(now=time.time() + 61))  # the runner's sweep, a minute on
    assert len(service.runner.changes) == kept - 1  # a task that changes no more keeps no version

    poll = {"taskType": "getResponse", "taskUUID": task["taskUUID"]}
    answer = asyncio.run(service.handle([poll], None, "http://127.0.0.1/"))
    assert answer.status == 404 and answer.data == []
    (error,) = answer.errors
    assert (error["code"], error["taskUUID"], error["taskType"]) == ("taskFailedOrNotFound", task["taskUUID"],
                                                                    "getResponse")
    assert "expired" in error["message"]
    with pytest.raises(ApiError, match="expired"):
        service.items_of(task["taskUUID"])

    # Sent again (the same taskUUID and body) once forgotten, it is answered at once, not waited on.
    again = asyncio.run(asyncio.wait_for(service.handle([task], None, "http://127.0.0.1/"), 30))
    assert again.status == 404 and again.errors[0]["code"] == "taskFailedOrNotFound"
