"""The soak's end: nothing lost. Once the clients stop, every task sent is waited for (bounded),
then checked against what the server says now and what the receivers got:

- every task the server accepted has finished, or failed with a code and a message;
- every result a client was given is still there, the same audio (the kill -9 included), unless
  its ttl has passed: then its file is no longer served and getResponse answers that the task is
  not found (taskFailedOrNotFound), as the API says; a ttl passing as the audit runs is not judged;
- every webhook landed exactly once per result, every upload once with the result's bytes.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field

from bench.soak_clients import SHORT_TTL_S
from bench.soak_ledger import Ledger, SeenResult, SentTask
from bench.soak_receivers import DeliveryReceiver
from bench.soak_server import SoakServer

EXPIRY_MARGIN_S = 5.0  # a short ttl counts as passed this long after the task was sent and its ttl


@dataclass
class Audit:
    accepted: int = 0
    finished: int = 0
    failed: list[str] = field(default_factory=list)  # "taskUUID: code: message", each with its reason
    lost: list[str] = field(default_factory=list)  # accepted and neither finished nor failed with a reason
    results_seen: int = 0
    results_kept: int = 0
    results_lost: list[str] = field(default_factory=list)  # given to a client, then gone or changed
    expired: int = 0  # short-ttl results no longer served, as asked
    expiry_faults: list[str] = field(default_factory=list)  # served after their ttl, or answered unlike the API
    expiring: int = 0  # results whose ttl was passing as the audit ran: not judged
    seen_before_kill: int = 0
    kept_across_kill: int = 0
    webhooks: int = 0  # results with a webhook
    webhooks_once: int = 0
    webhook_faults: list[str] = field(default_factory=list)  # missing, or landed twice
    uploads: int = 0
    uploads_once: int = 0
    upload_faults: list[str] = field(default_factory=list)

    @property
    def nothing_lost(self) -> bool:
        return not (self.lost or self.results_lost or self.expiry_faults or self.webhook_faults
                    or self.upload_faults) and self.kept_across_kill == self.seen_before_kill


def audit(server: SoakServer, ledger: Ledger, receiver: DeliveryReceiver, kill_at: float | None,
          drain_s: float, clock) -> Audit:
    """``kill_at``: when the kill -9 came, on the soak's ``clock`` (None: no kill)."""
    deadline = time.monotonic() + drain_s
    finals = {uuid: _settled(server, task, deadline) for uuid, task in ledger.tasks.items()}
    report = Audit()
    for task_uuid, task in ledger.tasks.items():
        status, answer = finals[task_uuid]
        items = answer.get("data", [])
        if status != 200 and not task.accepted:
            continue  # never stored: the kill cut the request before the server kept it
        report.accepted += 1
        seen = ledger.seen_of(task_uuid)
        expiry = _expiry(task, seen, clock())
        if expiry == "passing":
            report.expiring += len(seen)
            continue
        if expiry == "over":
            _check_expired(report, server, task, status, answer, seen, kill_at)
            continue
        _check_task(report, task, status, items)
        _check_results(report, server, task, items, seen, kill_at)
        if task.webhook:
            _check_webhooks(report, receiver, task, items, deadline)
        if task.upload:
            _check_upload(report, server, receiver, task, items, deadline)
    return report


def _settled(server: SoakServer, task: SentTask, deadline: float) -> tuple[int, dict]:
    """getResponse until nothing is processing, or the drain's time is up: (status, answer)."""
    while True:
        status, answer = server.get_response(task.task_uuid)
        items = answer.get("data", [])
        if status != 200 or all(item["status"] != "processing" for item in items) or time.monotonic() > deadline:
            return status, answer
        time.sleep(0.5)


def _expiry(task: SentTask, seen: list[SeenResult], now: float) -> str:
    """"kept" (no short ttl, or none can be over yet), "over" (every result's ttl surely is: it
    was seen after it was made) or "passing" (some may be over: not judged)."""
    if task.ttl_s != SHORT_TTL_S or now < task.sent_at + SHORT_TTL_S:
        return "kept"
    if seen and all(now > result.at + SHORT_TTL_S + EXPIRY_MARGIN_S for result in seen):
        return "over"
    return "passing"


def _check_expired(report: Audit, server: SoakServer, task: SentTask, status: int, answer: dict,
                   seen: list[SeenResult], kill_at: float | None) -> None:
    codes = [error.get("code") for error in answer.get("errors", ())]
    if status != 404 or codes != ["taskFailedOrNotFound"]:
        report.expiry_faults.append(f"{task.task_uuid}: getResponse after its ttl answers {status} "
                                    f"{answer.get('data')} {codes}, not taskFailedOrNotFound")
    else:
        report.finished += 1
    for result in seen:
        report.results_seen += 1
        before_kill = kill_at is not None and result.at < kill_at
        report.seen_before_kill += before_kill
        status, _ = server.request("GET", f"/v1/media/{result.audio_uuid}.{task.body['outputFormat'].lower()}")
        if status == 404:
            report.expired += 1
            report.kept_across_kill += before_kill  # kept until its time was over
        else:
            report.expiry_faults.append(f"{result.audio_uuid} of {task.task_uuid}: served after its ttl "
                                        f"(HTTP {status})")


def _check_task(report: Audit, task: SentTask, status: int, items: list[dict]) -> None:
    failed = [item for item in items if item.get("status") == "error"]
    if failed:
        error = failed[0]
        if error.get("code") and error.get("message"):
            report.failed.append(f"{task.task_uuid} ({task.kind}): {error['code']}: {error['message']}")
        else:
            report.lost.append(f"{task.task_uuid} ({task.kind}): failed without a reason: {error}")
    elif status != 200:
        report.lost.append(f"{task.task_uuid} ({task.kind}): getResponse answers {status}")
    elif any(item["status"] == "processing" for item in items):
        report.lost.append(f"{task.task_uuid} ({task.kind}): still processing after the drain")
    elif len(items) != task.number_results:
        report.lost.append(f"{task.task_uuid} ({task.kind}): {len(items)} of {task.number_results} results")
    else:
        report.finished += 1


def _content(server: SoakServer, task: SentTask, item: dict) -> bytes | None:
    if task.output_type == "URL":
        status, content = server.request("GET", item["audioURL"])
        return content if status == 200 else None
    data = item.get("audioBase64Data") or item.get("audioDataURI", "").partition(",")[2]
    return base64.b64decode(data) if data else None


def _check_results(report: Audit, server: SoakServer, task: SentTask, items: list[dict], seen_results: list[SeenResult],
                   kill_at: float | None) -> None:
    now_items = {item.get("audioUUID"): item for item in items if item.get("status") == "success"}
    for seen in seen_results:
        report.results_seen += 1
        before_kill = kill_at is not None and seen.at < kill_at
        report.seen_before_kill += before_kill
        item = now_items.get(seen.audio_uuid)
        why = None
        if item is None:
            why = "no longer in getResponse"
        elif seen.seed is not None and item["seed"] != seen.seed:
            why = f"seed {seen.seed} became {item['seed']}"
        elif seen.sha256 is not None:
            content = _content(server, task, item)
            if content is None or hashlib.sha256(content).hexdigest() != seen.sha256:
                why = "not served" if content is None else "its audio changed"
        if why:
            report.results_lost.append(f"{seen.audio_uuid} of {task.task_uuid} ({task.kind}): {why}")
        else:
            report.results_kept += 1
            report.kept_across_kill += before_kill


def _check_webhooks(report: Audit, receiver: DeliveryReceiver, task: SentTask, items: list[dict],
                    deadline: float) -> None:
    made = [item["audioUUID"] for item in items if item.get("status") == "success"]
    landed = receiver.wait_for(task.webhook, len(made), max(0.0, deadline - time.monotonic()))
    calls = [audio_uuid for call in landed for audio_uuid in call.audio_uuids]
    for audio_uuid in made:
        report.webhooks += 1
        count = calls.count(audio_uuid)
        if count == 1:
            report.webhooks_once += 1
        else:
            report.webhook_faults.append(f"{audio_uuid} of {task.task_uuid}: landed {count} times "
                                         f"({receiver.calls[task.webhook]} calls)")
    for stranger in set(calls) - set(made):
        report.webhook_faults.append(f"{stranger}: a webhook for {task.task_uuid} that is not one of its results")


def _check_upload(report: Audit, server: SoakServer, receiver: DeliveryReceiver, task: SentTask, items: list[dict],
                  deadline: float) -> None:
    made = [item for item in items if item.get("status") == "success"]
    if not made:
        return
    report.uploads += 1
    landed = receiver.wait_for(task.upload, 1, max(0.0, deadline - time.monotonic()))
    content = _content(server, task, made[0])
    digest = hashlib.sha256(content).hexdigest() if content else None
    upload_status = made[0].get("uploadStatus")
    while upload_status == "pending" and time.monotonic() < deadline:  # the landing is recorded after its answer
        time.sleep(0.2)
        upload_status = next(item.get("uploadStatus") for item in server.get_response(task.task_uuid)[1]["data"])
    if len(landed) == 1 and landed[0].sha256 == digest and upload_status == "done":
        report.uploads_once += 1
    else:
        report.upload_faults.append(f"{task.task_uuid}: {len(landed)} uploads landed "
                                    f"({receiver.calls[task.upload]} calls), "
                                    f"{'the same bytes' if landed and landed[0].sha256 == digest else 'other bytes'}, "
                                    f"uploadStatus {upload_status}")
