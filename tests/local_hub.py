"""A Hugging Face Hub on this machine: a real HTTP server answering the requests huggingface_hub
makes to download a repo (revision info, file tree, file metadata, file bytes), so downloads run
through the real library with nothing faked in it. It sends files slowly, in small pieces, so a
test can act while a download runs, and logs what was fetched."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import huggingface_hub
import huggingface_hub.constants
import pytest

PIECE = 64 * 1024  # what the server sends at a time, and what huggingface_hub reads at a time


class LocalHub:
    def __init__(self, repos: dict[str, dict[str, bytes]], seconds_per_piece: float = 0.002):
        self.repos = repos
        self.seconds_per_piece = seconds_per_piece
        self.fetched: list[str] = []  # "repo/file" of every file body sent (or begun)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"

    @staticmethod
    def commit(repo_id: str) -> str:
        return hashlib.sha1(repo_id.encode()).hexdigest()

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        huggingface_hub.close_session()  # no connection to this server is kept for later tests

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                for repo_id, files in hub.repos.items():
                    commit = hub.commit(repo_id)
                    if path.startswith(f"/api/models/{repo_id}/revision/"):
                        return self._json({"id": repo_id, "sha": commit,
                                           "siblings": [{"rfilename": name} for name in files]})
                    if path.startswith(f"/api/models/{repo_id}/tree/"):
                        return self._json([{"type": "file", "path": name, "size": len(data),
                                            "oid": hashlib.sha1(data).hexdigest()} for name, data in files.items()])
                    prefix = f"/{repo_id}/resolve/"
                    if path.startswith(prefix) and path.rsplit("/", 1)[1] in files:
                        return self._file(repo_id, commit, path.rsplit("/", 1)[1], files)
                self._reply(404, b'{"error": "not found"}')

            def _json(self, value) -> None:
                self._reply(200, json.dumps(value).encode(), {"Content-Type": "application/json"})

            def _file(self, repo_id: str, commit: str, name: str, files: dict[str, bytes]) -> None:
                data = files[name]
                headers = {"X-Repo-Commit": commit, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}
                if self.command == "HEAD":
                    return self._reply(200, b"", headers, length=len(data))
                hub.fetched.append(f"{repo_id}/{name}")
                self._reply(200, b"", headers, length=len(data))
                for start in range(0, len(data), PIECE):
                    try:
                        self.wfile.write(data[start:start + PIECE])
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the client stopped reading: a cancelled download
                    threading.Event().wait(hub.seconds_per_piece)  # the network's pace

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                       length: int | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

        return Handler


def serve_hub(repos: dict[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch,
              seconds_per_piece: float = 0.002) -> LocalHub:
    """Start a local Hub and point huggingface_hub at it (its endpoint is read once, at import)."""
    hub = LocalHub(repos, seconds_per_piece)
    hub.start()
    constants = huggingface_hub.constants
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", PIECE)  # progress per piece, not per 10 MB
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    huggingface_hub.close_session()  # the next session reads the proxy settings
    return hub
