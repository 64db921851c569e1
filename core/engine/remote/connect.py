"""Opening the link to a serve: the WebSocket's handshake, then the engine protocol's greeting
(version and API key). Each way it can fail is said for the person who typed the address, and
marked as worth another try (nothing answers yet) or not (a wrong address, key or scheme)."""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from core.engine import wire
from core.engine.remote.link import Link, LinkLost

CONNECT_TIMEOUT_S = 10.0


class Unreachable(Exception):
    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


def connect(url: str, server: str, api_key: str, silence_s: float) -> tuple[Link, dict[str, Any]]:
    """A link to the serve at ``url`` (``server``: its name in messages) that greeted the studio,
    and its greeting (the server's status); raises ``Unreachable``."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
    from websockets.sync.client import connect as websocket

    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'wss' else 80)}"
    try:
        connection = websocket(url, open_timeout=CONNECT_TIMEOUT_S, close_timeout=1.0, compression=None,
                               max_size=wire.MAX_MESSAGE_BYTES, ping_interval=10.0, ping_timeout=10.0,
                               user_agent_header="dia-studio", legacy=True)
    except InvalidStatus as error:
        raise Unreachable(_refused_upgrade(server, error.response.status_code), retry=False) from None
    except InvalidURI as error:
        raise Unreachable(f"{url} is not a server address ({error}).", retry=False) from None
    except ssl.SSLCertVerificationError as error:
        raise Unreachable(f"The TLS certificate of {parts.hostname} could not be verified "
                          f"({error.verify_message}); check the address, or the certificate the server "
                          "uses.", retry=False) from None
    except ssl.SSLError as error:
        raise Unreachable(f"{where} did not answer in TLS ({error.reason or error}): if the server is a "
                          "plain dia-studio serve, use ws:// or http:// for it.", retry=False) from None
    except InvalidHandshake as error:
        raise Unreachable(f"{where} did not answer as a WebSocket server ({error}); if it uses TLS, use "
                          "wss:// or https:// for it.", retry=False) from None
    except ConnectionRefusedError:
        raise Unreachable(f"Nothing answers at {where} (connection refused): is dia-studio serve running "
                          "there, on that port?", retry=True) from None
    except socket.gaierror:
        raise Unreachable(f"The host {parts.hostname} is not known; check the server's address.",
                          retry=False) from None
    except (TimeoutError, socket.timeout):
        raise Unreachable(f"{where} did not answer within {CONNECT_TIMEOUT_S:.0f} s (a wrong address, or a "
                          "firewall in between?).", retry=False) from None
    except OSError as error:
        raise Unreachable(f"{where} could not be reached ({error.strerror or error}).", retry=True) from None
    link = Link(connection)
    try:
        link.send({"type": "hello", "protocol": wire.PROTOCOL, "apiKey": api_key})
        got = link.receive(silence_s)
    except LinkLost as lost:
        link.close()
        raise Unreachable(f"{where} closed the connection before greeting the studio ({lost}).",
                          retry=True) from None
    if got is None or got[0]["type"] not in ("welcome", "error"):
        link.close()
        raise Unreachable(f"{where} did not greet the studio as a dia-studio serve does.", retry=False)
    reply = got[0]
    if reply["type"] == "error":
        link.close()
        if reply.get("code") == "invalidApiKey":
            raise Unreachable(f"The server at {server} refused the API key: give one of the keys of "
                              "its --api-keys file.", retry=False)
        if reply.get("code") == "unsupportedProtocol":
            raise Unreachable(f"The server at {server} speaks version {reply.get('protocol')} of the "
                              f"engine protocol and this studio version {wire.PROTOCOL}: update the older of "
                              "the two.", retry=False)
        raise Unreachable(f"The server at {server} refused the studio: {reply.get('message')}", retry=False)
    return link, reply


def _refused_upgrade(server: str, status: int) -> str:
    """Why a server answered the engine's address with an HTTP status: too old a serve, or
    something else there."""
    try:
        with urllib.request.urlopen(server + "/health", timeout=CONNECT_TIMEOUT_S) as reply:
            body = reply.read(1024)
    except urllib.error.HTTPError as error:
        body = error.read(1024)
    except (OSError, ValueError):
        body = b""
    try:
        is_serve = "status" in json.loads(body)
    except ValueError:
        is_serve = False
    if is_serve:
        return (f"The dia-studio serve at {server} is too old to be the studio's engine (it has no "
                f"{wire.PATH}, HTTP {status}): update it.")
    return f"The server at {server} is not a dia-studio serve (it answered {wire.PATH} with HTTP {status})."
