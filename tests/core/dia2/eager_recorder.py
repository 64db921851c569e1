"""A stand-in for CUDA graph recording where there is no GPU, with the contract that matters:
a recorded step's outputs live at fixed addresses and a replay refreshes them in place, so
code that forgets to copy an input into its buffer, or reads a stale output, fails here too.

It also checks that a recorded step does nothing a CUDA graph cannot hold: no read of a
device value on the host (``.item()``, ``int(tensor)``, data-dependent shapes), no tensor
built from host data while recording, and no random numbers from a generator the recording was
not given.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Operations that synchronise with the host or copy host data in: illegal inside a capture.
NOT_CAPTURABLE = {"_local_scalar_dense", "nonzero", "masked_select", "unique", "lift_fresh", "lift_fresh_copy",
                  "_unique2", "repeat_interleave"}


class CaptureChecker(TorchDispatchMode):
    def __init__(self, generators=()):
        super().__init__()
        self.operations: set[str] = set()
        self.generators = generators
        self.unregistered_draws: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.__name__.split(".")[0]
        self.operations.add(name)
        if (kwargs or {}).get("generator") is None:
            return func(*args, **(kwargs or {}))
        # The generator arrives here as another Python object: a draw from a given one is
        # known by that one's state moving on.
        before = [known.get_state() for known in self.generators]
        result = func(*args, **kwargs)
        if all(torch.equal(state, known.get_state()) for state, known in zip(before, self.generators)):
            self.unregistered_draws.add(name)
        return result


class EagerRecorder:
    def __init__(self):
        self.warm_ups = 0
        self.captures = 0
        self.replays = 0

    def warm_up(self, step):
        self.warm_ups += 1
        step()

    def capture(self, step, generators=()):
        checker = CaptureChecker(generators)
        with checker:
            outputs = step()
        forbidden = checker.operations & NOT_CAPTURABLE
        if forbidden:
            raise AssertionError(f"a recorded step uses operations a CUDA graph cannot hold: {sorted(forbidden)}")
        if checker.unregistered_draws:
            raise AssertionError(f"a recorded step draws from a generator it was not given: "
                                 f"{sorted(checker.unregistered_draws)}")
        self.captures += 1

        def replay():
            self.replays += 1
            fresh = step()
            for kept, new in zip(_flat(outputs), _flat(fresh)):
                kept.copy_(new)

        return replay, outputs


def _flat(outputs):
    return outputs if isinstance(outputs, (tuple, list)) else (outputs,)
