"""The soak's loopback receivers of webhooks (POST) and uploads (PUT), down for a while, then back.

Each task gets URLs of its own, ``/hook/TOKEN?fail=N`` or ``/put/TOKEN?fail=N``: the first N calls
to a URL are answered 503 (a receiver that is down), the later ones 204. Every call is counted,
and each call answered 2xx is kept (the audioUUIDs a webhook carried, the digest of an upload's
body), so the soak can check that every result landed exactly once.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Landed:
    """A call answered 2xx: what it delivered."""

    token: str
    audio_uuids: tuple[str, ...]  # a webhook's items; empty for an upload
    sha256: str | None  # an upload's body
    at: float


class DeliveryReceiver:
    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # token → calls, failed ones included
        self.landed: dict[str, list[Landed]] = defaultdict(list)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                receiver._answer(self, webhook=True)

            def do_PUT(self):
                receiver._answer(self, webhook=False)

            def log_message(self, *args):
                pass

        self._clock = clock
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="soak-receiver", daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, kind: str, fail: int) -> tuple[str, str]:
        """A new URL for a webhook (``hook``) or an upload (``put``), down for its first ``fail``
        calls: (its token, the URL)."""
        token = uuid.uuid4().hex
        return token, f"{self.base}/{kind}/{token}?fail={fail}"

    def _answer(self, handler: http.server.BaseHTTPRequestHandler, webhook: bool) -> None:
        parts = urlsplit(handler.path)
        token = parts.path.rsplit("/", 1)[-1]
        fail = int(parse_qs(parts.query).get("fail", ["0"])[0])
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        with self._lock:
            self.calls[token] += 1
            down = self.calls[token] <= fail
            if not down:
                if webhook:
                    items = json.loads(body).get("data", [])
                    landed = Landed(token, tuple(item.get("audioUUID") for item in items), None, self._clock())
                else:
                    landed = Landed(token, (), hashlib.sha256(body).hexdigest(), self._clock())
                self.landed[token].append(landed)
        handler.send_response(503 if down else 204)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def landed_of(self, token: str) -> list[Landed]:
        with self._lock:
            return list(self.landed.get(token, ()))

    def wait_for(self, token: str, count: int, timeout_s: float, stop=lambda: False) -> list[Landed]:
        """The calls that landed at ``token`` once there are ``count`` (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not stop():
            landed = self.landed_of(token)
            if len(landed) >= count:
                return landed
            time.sleep(0.1)
        return self.landed_of(token)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
