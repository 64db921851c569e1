"""Outgoing HTTP for the service (voice URLs, webhooks, uploads) with limits, and never, by
default, to this machine or a private network: a request must not become a way to reach what
only the server can reach (request forgery).

The host is resolved once, every address it has is checked, and the connection goes to the
checked address (so a name that resolves differently a moment later cannot slip through).
Redirects are not followed. ``allow_private`` lifts the address check, for local setups and tests.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import dataclass


class FetchError(Exception):
    """The request was refused or failed; the message says why, for an error item."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def request(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout_s: float = 10.0, max_bytes: int = 1024 * 1024, allow_private: bool = False) -> Reply:
    parts, port = _split(url)
    address = _checked_address(parts.hostname, port, allow_private)
    connection = _Connection(parts.scheme, parts.hostname, address, port, timeout_s)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        declared = response.getheader("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"{_short(url)} answered with {int(declared)} bytes; the most taken is {max_bytes}.")
        content = response.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise FetchError(f"{_short(url)} sent more than {max_bytes} bytes.")
        return Reply(response.status, content)
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(f"{_short(url)} could not be reached: {error or type(error).__name__}.") from error
    finally:
        connection.close()


def check_destination(url: str, allow_private: bool = False) -> None:
    """Raises FetchError for a URL that no request would ever be sent to: not http(s), or (unless
    ``allow_private``) a host on this machine or a private network. For a URL kept to be sent
    later (a webhook, an upload): a host that does not resolve yet passes, as it may by then."""
    parts, port = _split(url)
    try:
        _checked_address(parts.hostname, port, allow_private)
    except _Unresolved:
        pass  # the deliveries retry it until the name resolves, or time runs out


def _split(url: str) -> tuple[urllib.parse.SplitResult, int]:
    """The URL's parts and port; FetchError if it is not a well-formed http(s) URL."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            return parts, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number, an unclosed IPv6 address
        pass
    raise FetchError(f"{_short(url)} is not an http(s) URL.")


class _Unresolved(FetchError):
    """The host has no address (now)."""


def _checked_address(host: str, port: int, allow_private: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise _Unresolved(f"The host {host} could not be resolved ({error}).") from error
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise FetchError(f"The host {host} is on this machine or a private network ({address}); "
                                 "the server does not send requests there.")
    return addresses[0]


class _Connection(http.client.HTTPSConnection):
    """Connects to a checked address; TLS still verifies the certificate of the host's name."""

    def __init__(self, scheme: str, host: str, address: str, port: int, timeout_s: float):
        super().__init__(host, port, timeout=timeout_s, context=ssl.create_default_context())
        self._scheme = scheme
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._scheme == "https":
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


def _short(url: str) -> str:
    return url if len(url) <= 80 else url[:77] + "…"
