"""The shape of a WebSocket session the server holds open (``/v1/engine``, ``/v1/live``): a
reader takes every frame off the socket as it comes (so a cancel acts at once, even while the
session is busy streaming), the session serves what the reader queues, and however it ends
(the client gone, a protocol error, a bug) its work is stopped and the socket closed.

A subclass gives ``_serve`` (its conversation), ``_received`` (one frame: act on it now, or
queue it for ``_serve``) and ``_gone`` (stop what runs for the client; called once the client
has gone or the session ends, maybe twice). ``socket`` is Starlette's WebSocket, already accepted.
"""

from __future__ import annotations

import asyncio
from typing import Any


class SocketSession:
    def __init__(self, socket):
        self.socket = socket
        self._inbox: asyncio.Queue = asyncio.Queue()  # what _serve reads; None once the client has gone
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        reader = asyncio.ensure_future(self._read())
        try:
            await self._serve()
        except ConnectionError:
            pass
        finally:
            self._gone()
            reader.cancel()
            try:
                await self.socket.close()
            except Exception:  # already closed by the other side
                pass

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.socket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                await self._received(frame)
        except Exception:  # a connection torn down under us is a client gone
            pass
        finally:
            self._gone()  # a client gone frees the model now, not at the next send
            self._inbox.put_nowait(None)

    async def _send_frames(self, *frames: str | bytes) -> None:
        """Text and binary frames, in order and together (no other send comes between them);
        ConnectionError once the client has gone."""
        async with self._send_lock:
            try:
                for frame in frames:
                    if isinstance(frame, bytes):
                        await self.socket.send_bytes(frame)
                    else:
                        await self.socket.send_text(frame)
            except Exception as error:  # Starlette raises several kinds for a closed socket
                raise ConnectionError("the client left") from error

    async def _serve(self) -> None:
        raise NotImplementedError

    async def _received(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    def _gone(self) -> None:
        raise NotImplementedError
