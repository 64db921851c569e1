"""Webhook calls and uploads of finished results, retried until they land or time runs out.

Each finished result with a ``webhookURL`` gets one POST of ``{"data": [its item]}``; with an
``uploadEndpoint`` its file is PUT there as the raw body (what a presigned storage URL expects).
A delivery is a row in the store, written with the result, so a restart delivers what was
pending. An attempt that fails (no connection, a time-out, an answer other than 2xx) is retried
after RETRY_DELAYS_S (the last delay repeating) until GIVE_UP_S (serve --retry-deliveries-for)
after the first attempt; every attempt is recorded. A failed upload is reported on its result
item; the result stays retrievable either way. Time is the injected ``Clock``'s (real by default).
"""

from __future__ import annotations

import json
import logging

from core.audio.formats import format_from_path
from core.service.clock import Clock
from core.service.responses import MIME_TYPES
from core.service.safe_fetch import FetchError, request
from core.service.task_store import Delivery, TaskStore
from core.service.wakeable_thread import WakeableThread

log = logging.getLogger("dia_studio.service")

RETRY_DELAYS_S = (1, 2, 4, 8, 16, 32, 60)
GIVE_UP_S = 15 * 60
ATTEMPT_TIMEOUT_S = 10.0
MAX_REPLY_BYTES = 64 * 1024  # what we read of the receiver's answer (we only need its status)


class Deliverer(WakeableThread):
    def __init__(self, store: TaskStore, item_of, on_change=lambda audio_uuid: None, *, allow_private: bool = False,
                 give_up_s: float = GIVE_UP_S, clock: Clock | None = None):
        """``item_of(audio_uuid)``: the result item a webhook sends; ``on_change(audio_uuid)``:
        a delivery of that result changed state."""
        super().__init__("deliveries")
        self.store = store
        self.item_of = item_of
        self.on_change = on_change
        self.allow_private = allow_private
        self.give_up_s = give_up_s
        self.clock = clock or Clock()

    def deliver(self, audio_uuid: str, webhook_url: str | None, upload_endpoint: str | None) -> None:
        """A finished result's webhook and upload, each first attempted at once."""
        now = self.clock.time()
        for kind, url in (("webhook", webhook_url), ("upload", upload_endpoint)):
            if url:
                self.store.add_delivery(audio_uuid, kind, url, now)
        if webhook_url or upload_endpoint:
            self.wake()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                due = self.store.due_deliveries(self.clock.time())
                if not due:
                    self.clock.wait(self._wake, 0.5)
                    continue
            for delivery in due:
                self._attempt(delivery)

    def _attempt(self, delivery: Delivery) -> None:
        try:
            reply = self._send(delivery)
            outcome = f"HTTP {reply.status}"
            landed = 200 <= reply.status < 300
        except FetchError as error:
            outcome, landed = str(error), False
        except Exception as error:  # e.g. the result's file is gone: recorded, retried, never fatal
            outcome, landed = f"{type(error).__name__}: {error}", False
        now = self.clock.time()
        first = delivery.first_attempt or now
        if landed:
            status, next_attempt = "done", now
        elif now - first >= self.give_up_s:
            status, next_attempt = "failed", now
        else:
            delay = RETRY_DELAYS_S[min(delivery.attempts, len(RETRY_DELAYS_S) - 1)]
            status, next_attempt = "pending", now + delay
        self.store.record_attempt(delivery, outcome, status, next_attempt, now)
        if status != delivery.status:
            self.on_change(delivery.audio_uuid)
        log.info("%s of %s to %s: %s%s", delivery.kind, delivery.audio_uuid, delivery.url, outcome,
                 "" if landed else f" ({status})")

    def _send(self, delivery: Delivery):
        result = self.store.result_by_audio(delivery.audio_uuid)
        if delivery.kind == "webhook":
            body = json.dumps({"data": [self.item_of(delivery.audio_uuid)]}).encode()
            return request("POST", delivery.url, body=body, headers={"Content-Type": "application/json"},
                           timeout_s=ATTEMPT_TIMEOUT_S, max_bytes=MAX_REPLY_BYTES, allow_private=self.allow_private)
        content = self.store.read_media(result)
        mime = MIME_TYPES[format_from_path(result.file)]
        return request("PUT", delivery.url, body=content, headers={"Content-Type": mime},
                       timeout_s=ATTEMPT_TIMEOUT_S, max_bytes=MAX_REPLY_BYTES, allow_private=self.allow_private)
