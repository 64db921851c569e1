"""An HTTP server on loopback that records what it is sent (and fails when told to): a webhook's
receiver."""

from __future__ import annotations

import http.server
import json
import threading
import time


class Receiver:
    """Records each POST, stamped by ``clock``; answers 500 to the first ``failures`` of them."""

    def __init__(self, failures: int = 0, port: int = 0, clock=time.monotonic):
        self.calls: list[dict] = []
        self.failures = failures
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.calls.append({"path": self.path, "body": body, "at": clock()})
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
