"""Webhooks and uploads of finished results against real receivers on loopback: an HTTP server
that records what it is sent, and moto's S3-compatible server with presigned PUT URLs made by
boto3. The retries' back-off runs on a clock the tests move (test_delivery_backoff.py)."""

import time
import uuid

import boto3
import pytest
import soundfile
from moto.server import ThreadedMotoServer

from tests.service.receiver import Receiver
from tests.service.server_process import ServerProcess, free_port, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("deliveries"), "--allow-private-urls") as process:
        yield process


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    moto.start()
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket="takes")
    yield client
    moto.stop()


def _task(**fields) -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 4,
            "speech": {"text": "[S1] Delivered to you."}, "outputFormat": "FLAC", **fields}


def _poll(server, task_uuid) -> list[dict]:
    return server.post([{"taskType": "getResponse", "taskUUID": task_uuid}])[1]["data"]


def test_each_result_is_posted_to_the_webhook_after_an_acknowledged_submit(server):
    receiver = Receiver()
    try:
        task = _task(numberResults=2, webhookURL=receiver.url)
        status, answer = server.post([task])
        assert status == 200 and answer["data"] == [{"taskType": "audioInference", "taskUUID": task["taskUUID"]}]
        calls = receiver.wait_for(2)
        assert [call["path"] for call in calls] == ["/hook?token=abc"] * 2
        items = [call["body"]["data"][0] for call in calls]
        assert sorted(item["seed"] for item in items) == [4, 5]
        assert all(item["taskUUID"] == task["taskUUID"] and item["status"] == "success" for item in items)
        for item in items:  # the URL in the payload is served
            assert server.get(item["audioURL"][len(server.base):])[0] == 200
    finally:
        receiver.close()


def test_a_result_is_put_to_a_presigned_s3_url(server, s3, tmp_path):
    key = f"{uuid.uuid4()}.flac"
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "takes", "Key": key}, ExpiresIn=600)
    task = _task(uploadEndpoint=url)
    status, answer = server.post([task])
    assert status == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _poll(server, task["taskUUID"])[0].get("uploadStatus") != "done":
        time.sleep(0.1)
    (item,) = _poll(server, task["taskUUID"])
    assert item["uploadStatus"] == "done"
    body = s3.get_object(Bucket="takes", Key=key)["Body"].read()
    status, served, _ = server.request("GET", item["audioURL"][len(server.base):])
    assert body == served
    (tmp_path / "put.flac").write_bytes(body)
    assert soundfile.info(str(tmp_path / "put.flac")).samplerate == 24000


def test_webhooks_and_uploads_to_this_machine_are_refused_at_submit_without_the_flag(tmp_path):
    server = ServerProcess(tmp_path / "data")
    receiver = Receiver()
    try:
        server.wait_until_ready()
        for field, code in (("webhookURL", "invalidWebhookURL"), ("uploadEndpoint", "invalidUploadEndpoint")):
            task = _task(**{field: receiver.url})
            status, answer = server.post([task])
            (error,) = answer["errors"]
            assert status == 400 and (error["code"], error["parameter"]) == (code, field)
            assert "private network" in error["message"]
            assert server.post([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])[0] == 404  # not queued
        assert receiver.calls == []
    finally:
        server.stop()
        receiver.close()


def test_a_pending_webhook_is_delivered_after_a_kill_9_and_a_restart(tmp_path):
    port = free_port()  # the receiver is down while the result is made
    server = ServerProcess(tmp_path / "data", "--allow-private-urls")
    server.wait_until_ready()
    task = _task(webhookURL=f"http://127.0.0.1:{port}/hook")
    server.post([task])
    deadline = time.monotonic() + 60
    while "webhook of" not in server.log and time.monotonic() < deadline:
        time.sleep(0.1)
    server.kill()
    receiver = Receiver(port=port)
    server = ServerProcess(tmp_path / "data", "--allow-private-urls")
    try:
        (call,) = receiver.wait_for(1, timeout=60)
        assert call["body"]["data"][0]["taskUUID"] == task["taskUUID"]
    finally:
        server.stop()
        receiver.close()
