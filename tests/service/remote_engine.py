"""A real `dia-studio serve` for the remote engine (key file, a scripted Whisper), and a TCP proxy
to put between it and a studio: it counts what the studio sends, and it can cut the line."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.engine.choice import EngineChoice
from core.engine.engine import EngineKind
from core.engine.remote import RemoteEngine
from tests.scripted_whisper import scripted_whisper_checkpoint
from tests.service.server_process import ServerProcess, free_port

KEY = "studio-key-1"
HEARD = ["Hello", "there", "friend"]  # what the server's Whisper hears in any voice


@dataclass
class RemoteServer:
    process: ServerProcess

    @property
    def url(self) -> str:
        return self.process.base

    def engine(self, url: str | None = None, key: str | None = KEY, **options) -> RemoteEngine:
        return RemoteEngine(url or self.url, key, **options)

    def choice(self) -> EngineChoice:
        """The engine choice the model manager would make for this server ("On a server")."""
        return EngineChoice(EngineKind.REMOTE, self.url, KEY)


@contextmanager
def engine_server(folder: Path, data_dir: Path | None = None):
    """A ready server that needs ``KEY``, its data under ``data_dir`` (default: in ``folder``)."""
    keys = folder / "keys.txt"
    keys.write_text(f"# the studio's key\n{KEY}\n")
    whisper = folder / "whisper.pt"
    if not whisper.exists():
        scripted_whisper_checkpoint(HEARD, whisper)
    process = ServerProcess(data_dir or folder / "data", "--api-keys", str(keys), "--whisper-model", str(whisper))
    try:
        process.wait_until_ready()
        yield RemoteServer(process)
    finally:
        process.stop()


class TcpProxy:
    """127.0.0.1:``port`` → ``target``, byte for byte. ``cut`` closes every connection through it
    (as a network that goes down does, both ends see it); ``freeze`` stops passing bytes on
    without closing anything (a link gone silent). New connections go through as before."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.sent_to_server = 0  # bytes the studio sent, all connections together
        self.sent_to_studio = 0  # bytes the server sent, likewise
        self._cut_at: int | None = None  # sent_to_studio at which to cut (cut_after)
        self.cuts: list[bool] = []  # one entry a cut, as it happens
        self.connections = 0
        self._frozen = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self.connections += 1
                self._open += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if self._frozen.is_set():
                    continue  # swallowed: the other end hears nothing more
                with self._lock:
                    if upstream:
                        self.sent_to_server += len(data)
                    else:
                        self.sent_to_studio += len(data)
                    cutting = not upstream and self._cut_at is not None and self.sent_to_studio > self._cut_at
                    if cutting:
                        self._cut_at = None
                if cutting:  # these bytes are lost with the link
                    self.cut()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def cut_after(self, more_bytes: int) -> None:
        """Cut once the server has sent ``more_bytes`` more to the studio: the cut falls at that
        point of the stream however fast the studio reads or shows what it gets."""
        with self._lock:
            self._cut_at = self.sent_to_studio + more_bytes

    def cut(self) -> None:
        self.cuts.append(True)
        with self._lock:
            connections, self._open = self._open, []
        for end in connections:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def freeze(self) -> None:
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    def close(self) -> None:
        """Nothing listens at the port any more (a shutdown first: a close alone leaves the socket
        listening while the accepting thread waits in it)."""
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self.cut()


def memory_once_read(engine: RemoteEngine, ready=lambda memory: memory.process_bytes is not None):
    """The engine's memory report once its reads in the background have brought one that is ``ready``."""
    deadline = time.monotonic() + 30
    while not ready(memory := engine.memory()):
        assert time.monotonic() < deadline, f"no such report came: {memory}"
        time.sleep(0.05)
    return memory

