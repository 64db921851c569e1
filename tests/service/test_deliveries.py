"""Webhooks and uploads of finished results against real receivers on loopback: an HTTP server
that records what it is sent (and fails when told to), and moto's S3-compatible server with
presigned PUT URLs made by boto3."""

import http.server
import json
import threading
import time
import uuid

import boto3
import pytest
import soundfile
from moto.server import ThreadedMotoServer

from tests.service.server_process import ServerProcess, free_port, running_server


class Receiver:
    """Records each POST; answers 500 to the first ``failures`` of them."""

    def __init__(self, failures: int = 0, port: int = 0):
        self.calls: list[dict] = []
        self.failures = failures
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.calls.append({"path": self.path, "body": body, "at": time.monotonic()})
                failing = len(receiver.calls) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?token=abc"

    def wait_for(self, count: int, timeout: float = 120.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.calls

    def close(self):
        self.httpd.shutdown()


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


def test_a_failing_webhook_is_retried_with_backoff_until_it_answers_2xx(server):
    receiver = Receiver(failures=2)
    try:
        server.post([_task(webhookURL=receiver.url)])
        calls = receiver.wait_for(3, timeout=60)
        assert len(calls) == 3
        gaps = [later["at"] - earlier["at"] for earlier, later in zip(calls, calls[1:])]
        assert gaps[0] >= 0.9 and gaps[1] >= 1.9  # 1 s, then 2 s
        time.sleep(1.5)
        assert len(receiver.calls) == 3  # delivered: no more attempts
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


def test_a_failed_upload_is_reported_on_its_result_which_stays_retrievable(tmp_path):
    server = ServerProcess(tmp_path / "data", "--allow-private-urls", "--retry-deliveries-for", "2")
    try:
        server.wait_until_ready()
        task = _task(uploadEndpoint=f"http://127.0.0.1:{free_port()}/nowhere")  # nothing listens there
        server.post([task])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _poll(server, task["taskUUID"])[0].get("uploadStatus") != "failed":
            time.sleep(0.1)
        (item,) = _poll(server, task["taskUUID"])
        assert item["status"] == "success" and item["uploadStatus"] == "failed"
        assert item["uploadError"]["code"] == "uploadFailed" and "could not be reached" in item["uploadError"]["message"]
        assert not {"code", "error"} & set(item)
        assert server.get(item["audioURL"][len(server.base):])[0] == 200
        assert server.log.count("upload of") >= 2  # retried, every attempt logged
    finally:
        server.stop()


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
