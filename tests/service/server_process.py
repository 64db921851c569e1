"""A real `dia-studio serve` process on loopback with the tiny checkpoint, and a plain HTTP client
(urllib: nothing of ours between the test and the socket)."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.core.dia2.golden import CHECKPOINT

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """``program`` and ``env``: what runs ``serve`` (the checkout's by default; a built bundle)."""

    def __init__(self, data_dir: Path, *flags: str, model: str = str(CHECKPOINT),
                 program: tuple[str, ...] = (sys.executable, "-m", "app.main"), env: dict[str, str] | None = None,
                 port: int | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        command = [*program, "serve", "--model", model, "--device", "cpu",
                   "--dtype", "float32", "--threads", "1", "--port", str(self.port), "--data-dir", str(data_dir),
                   *flags]
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                        env=env or {**os.environ, "PYTHONPATH": str(REPO)})

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_until_listening(self, timeout: float = 120.0) -> None:
        self._wait(lambda: self.get("/health")[0] in (200, 503), timeout)

    def wait_until_ready(self, timeout: float = 120.0) -> None:
        self._wait(lambda: self.get("/health")[0] == 200, timeout)

    def wait_until_failed(self, timeout: float = 120.0) -> None:
        """Until /health says the model could not be loaded."""
        self._wait(lambda: b'"failed"' in self.get("/health")[1], timeout)

    def _wait(self, condition, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}):\n{self.log}")
            try:
                if condition():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not get there in {timeout} s:\n{self.log}")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 300.0) -> tuple[int, bytes, dict]:
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def get(self, path: str) -> tuple[int, bytes]:
        status, content, _ = self.request("GET", path, timeout=10)
        return status, content

    def post(self, tasks, key: str | None = None, raw: bytes | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        status, content, _ = self.request("POST", "/v1", raw if raw is not None else json.dumps(tasks).encode(),
                                          headers)
        return status, json.loads(content)

    def kill(self) -> None:
        """kill -9: no clean-up of any kind runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def running_server(folder: Path, *flags: str):
    """A ready server with its data under ``folder``, stopped afterwards."""
    process = ServerProcess(folder / "data", *flags)
    try:
        process.wait_until_ready()
        yield process
    finally:
        process.stop()
