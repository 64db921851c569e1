"""The `dia-studio serve` under soak, and the clients' way to it.

The server runs on loopback with the tiny checkpoint (``tests.service.server_process``), is
killed with -9 once and started again on the same port and data folder. While it is down the
clients' requests fail to connect; they wait for it and send the same request again, as an
integrator's retry would (a repeated taskUUID never runs twice).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.service.server_process import ServerProcess, free_port

REQUEST_TIMEOUT_S = 300.0  # a sync task of four results behind a queue of others
RETRIES = 4  # sends of one request cut by the server going down
BACK_WITHIN_S = 180.0  # a restart that takes longer is a failure of its own


class ConnectionLost(Exception):
    """The server could not be reached, even after waiting for it to come back."""


def is_connection_error(error: BaseException) -> bool:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return isinstance(error.reason, (ConnectionError, OSError)) and not isinstance(error.reason, TimeoutError)
    return isinstance(error, (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)) \
        and not isinstance(error, TimeoutError)


class SoakServer:
    def __init__(self, folder: Path, flags: tuple[str, ...], clock):
        """``clock()``: seconds since the soak began (outages are stamped with it)."""
        self.folder = folder
        self.flags = flags
        self.clock = clock
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.life = 0
        self.up = threading.Event()
        self.outages: list[list[float | None]] = []  # [went down, answered again (None: not yet)]
        self.startup_s: list[float] = []
        self._engine_link = None  # to /v1/engine, where the server says what its warm voices hold
        self.process = self._start()

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def pid(self) -> int:
        return self.process.process.pid

    def _start(self) -> ServerProcess:
        started = time.monotonic()
        process = ServerProcess(self.data_dir, *self.flags, port=self.port)
        try:
            process.wait_until_ready(timeout=BACK_WITHIN_S)
        except BaseException:  # never left running behind a soak that gives up
            process.kill()
            raise
        self.startup_s.append(time.monotonic() - started)
        self.up.set()
        return process

    def kill_and_restart(self) -> None:
        """kill -9, then the same server again; the first life's log is kept beside the second's."""
        self.up.clear()
        self.outages.append([self.clock(), None])
        self.process.kill()
        self.process.log_path.rename(self.process.log_path.with_suffix(f".life{self.life}.log"))
        self.life += 1
        self.process = self._start()
        self.outages[-1][1] = self.clock()

    def down_during(self, start: float, end: float, grace_s: float = 2.0) -> bool:
        """Whether the server was down (or just going or coming back) at some moment from
        ``start`` to ``end``."""
        return any(down - grace_s <= end and start <= (self.clock() if back is None else back) + grace_s
                   for down, back in self.outages)

    def wait_up(self) -> None:
        if not self.up.wait(BACK_WITHIN_S):
            raise ConnectionLost(f"the server did not come back within {BACK_WITHIN_S:.0f} s")

    # ---- requests -------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None, codes: list[str] | None = None,
                timeout_s: float = REQUEST_TIMEOUT_S) -> tuple[int, bytes]:
        """(status, body); a request cut by the server going down is sent again once it is back,
        each cut noted in ``codes`` as connectionLost. Raises ConnectionLost after RETRIES."""
        url = path if path.startswith("http") else self.base + path
        for _ in range(RETRIES):
            self.wait_up()
            request = urllib.request.Request(url, data=body, method=method,
                                             headers={"Content-Type": "application/json"} if body else {})
            try:
                with urllib.request.urlopen(request, timeout=timeout_s) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()
            except Exception as error:
                if not is_connection_error(error):
                    raise
                if codes is not None:
                    codes.append("connectionLost")
                time.sleep(0.5)  # the kill is seen here before the server's state says so
        raise ConnectionLost(f"{method} {path}: no answer after {RETRIES} tries")

    def post(self, tasks: list[dict], codes: list[str] | None = None) -> tuple[int, dict]:
        status, content = self.request("POST", "/v1", json.dumps(tasks).encode(), codes)
        return status, json.loads(content)

    def get_response(self, task_uuid: str, codes: list[str] | None = None) -> tuple[int, dict]:
        return self.post([{"taskType": "getResponse", "taskUUID": task_uuid}], codes)

    def warm_voices_mb(self) -> float | None:
        """What the server's warm voice states hold, as its engine endpoint says (the studio's
        status bar reads the same); None when it cannot say (down, or restarting)."""
        return warm_voices_mb(self, self.port)

    def stop(self) -> None:
        self.up.clear()
        self.process.stop()
        if self._engine_link is not None:
            self._engine_link.close()


def warm_voices_mb(holder, port: int) -> float | None:
    """Ask ``dia-studio serve`` at ``port`` for its memory over ``/v1/engine`` (on the link
    ``holder._engine_link``, opened on first use and again after a kill)."""
    from core.engine import wire
    from core.engine.remote.connect import Unreachable, connect
    from core.engine.remote.link import LinkLost

    try:
        if holder._engine_link is None:
            holder._engine_link, _ = connect(f"ws://127.0.0.1:{port}{wire.PATH}", "the soak's server", "soak", 10.0)
        holder._engine_link.send({"type": "memory"})
        while (got := holder._engine_link.receive(10.0)) is not None and got[0]["type"] == "working":
            pass
        if got is None or got[0]["type"] != "memory":
            raise LinkLost(f"answered {got and got[0]}")
    except (Unreachable, LinkLost):
        if holder._engine_link is not None:
            holder._engine_link.close()
        holder._engine_link = None
        return None
    held = got[0].get("warmVoicesBytes")
    return None if held is None else held / 2**20

