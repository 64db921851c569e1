"""Messages for takes being made on a replica: a live take's text as it is written, its end, a
cancel. Serve sends every call to whichever replica is free, so what follows the start of a take
cannot be a call of its own; it goes into this actor instead, and the replica making the take
collects it (a long poll: it arrives within a round trip).

Each message carries its take's sequence number: calls to an async actor may run out of order,
and text must reach the model in the order it was written."""

from __future__ import annotations

import asyncio
from collections import deque

import ray

POLL_S = 0.25  # how long a replica's collect waits for a message before looking again
CLOSED_KEPT = 10_000  # takes remembered as ended, so what is sent to them late is dropped


class _Box:
    def __init__(self) -> None:
        self.next = 0
        self.early: dict[int, tuple] = {}  # arrived before the ones written before them
        self.ready: list[tuple] = []
        self.arrived = asyncio.Event()


@ray.remote(num_cpus=0)
class TextMailbox:
    def __init__(self) -> None:
        self._boxes: dict[str, _Box] = {}
        self._closed: set[str] = set()  # looked up on every message: a set, trimmed in closing order
        self._closing_order: deque[str] = deque()

    async def put(self, take: str, number: int, message: tuple) -> None:
        if take in self._closed:
            return  # a cancel or text after the take ended: nobody collects it
        box = self._boxes.setdefault(take, _Box())
        box.early[number] = message
        while box.next in box.early:
            box.ready.append(box.early.pop(box.next))
            box.next += 1
        if box.ready:
            box.arrived.set()

    async def collect(self, take: str, wait_s: float = POLL_S) -> list[tuple]:
        """What arrived for ``take``, in order; waits up to ``wait_s`` for something."""
        if take in self._closed:
            return []  # a replica's last look, after its take ended
        box = self._boxes.setdefault(take, _Box())
        if not box.ready:
            try:
                await asyncio.wait_for(box.arrived.wait(), wait_s)
            except asyncio.TimeoutError:
                return []
        ready, box.ready = box.ready, []
        box.arrived.clear()
        return ready

    async def close(self, take: str) -> None:
        self._boxes.pop(take, None)
        if take not in self._closed:
            self._closed.add(take)
            self._closing_order.append(take)
            if len(self._closing_order) > CLOSED_KEPT:
                self._closed.discard(self._closing_order.popleft())
