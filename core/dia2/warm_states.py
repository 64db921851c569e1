"""The backbone's attention caches after a prefix's first steps, kept for the next generation
that starts the same way.

Most generations in a session start from the same voice prompts (and a regeneration from the
same lines before): their prefill gives the same keys and values every time. The backbone is
causal, so the caches after the first ``n`` warm-up steps depend on those steps' inputs alone;
they are kept here, keyed by those inputs, and copied back instead of computed again.

Tokens stay exactly those of a generation without the cache: the prefill is always cut at the
same places (``FrameLoop`` derives them from the prefix alone, never from the script), so a
kept state is the very tensor the cut-up prefill computes, and what follows it is computed by
the same operations on the same shapes either way.

Bounded in bytes, least recently used first out; a ``max_bytes`` of 0 keeps nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import torch

from core.params import DEFAULT_WARM_VOICES_MB


@dataclass(frozen=True)
class WarmState:
    """Keys and values of every backbone layer for the first ``steps`` slots."""

    inputs: torch.Tensor  # [batch, steps, channels] what was fed: compared on a hit
    keys: tuple[torch.Tensor, ...]  # per layer [batch, kv_heads, steps, head_dim]
    values: tuple[torch.Tensor, ...]

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def bytes(self) -> int:
        """All it holds: its inputs too, which on a small model weigh half as much as its caches
        (the studio soak saw a process grow by what the bound did not count)."""
        return sum(t.numel() * t.element_size() for t in (self.inputs, *self.keys, *self.values))


class WarmStates:
    def __init__(self, max_bytes: int = DEFAULT_WARM_VOICES_MB * 2**20):
        self.max_bytes = max_bytes
        self._states: OrderedDict[bytes, WarmState] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def held_bytes(self) -> int:
        with self._lock:
            return sum(state.bytes for state in self._states.values())

    def __len__(self) -> int:
        return len(self._states)

    def find(self, inputs: torch.Tensor, cuts: list[int]) -> WarmState | None:
        """The kept state of the longest of ``cuts`` (steps) whose inputs match, if any."""
        with self._lock:
            for cut in sorted(cuts, reverse=True):
                state = self._states.get(_key(inputs[:, :cut]))
                if state is not None and torch.equal(state.inputs, inputs[:, :cut]):
                    self._states.move_to_end(_key(inputs[:, :cut]))
                    self.hits += 1
                    return state
            self.misses += 1
            return None

    def keep(self, state: WarmState) -> None:
        """Keep ``state``, dropping the least recently used ones beyond ``max_bytes`` (a state
        larger than that is not kept)."""
        if state.bytes > self.max_bytes:
            return
        with self._lock:
            self._states[_key(state.inputs)] = state
            self._states.move_to_end(_key(state.inputs))
            held = sum(kept.bytes for kept in self._states.values())
            while held > self.max_bytes:
                _, dropped = self._states.popitem(last=False)
                held -= dropped.bytes

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


def _key(inputs: torch.Tensor) -> bytes:
    data = inputs.detach().to("cpu", torch.int64).contiguous().numpy()
    return hashlib.blake2b(data.tobytes(), digest_size=16, person=repr(data.shape).encode()[:16]).digest()
