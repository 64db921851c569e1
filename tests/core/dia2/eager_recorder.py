"""A stand-in for CUDA graph recording where there is no GPU, with the contract that matters:
a recorded step's outputs live at fixed addresses and a replay refreshes them in place, so
code that forgets to copy an input into its buffer, or reads a stale output, fails here too.

It also checks that a recorded step does nothing a CUDA graph cannot hold: no read of a
device value on the host (``.item()``, ``int(tensor)``, data-dependent shapes) and no tensor
built from host data while recording.
"""

from __future__ import annotations

from torch.utils._python_dispatch import TorchDispatchMode

# Operations that synchronise with the host or copy host data in: illegal inside a capture.
NOT_CAPTURABLE = {"_local_scalar_dense", "nonzero", "masked_select", "unique", "lift_fresh", "lift_fresh_copy",
                  "_unique2", "repeat_interleave"}


class CaptureChecker(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.operations: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.operations.add(func.__name__.split(".")[0])
        return func(*args, **(kwargs or {}))


class EagerRecorder:
    def __init__(self):
        self.warm_ups = 0
        self.captures = 0
        self.replays = 0

    def warm_up(self, step):
        self.warm_ups += 1
        step()

    def capture(self, step):
        checker = CaptureChecker()
        with checker:
            outputs = step()
        forbidden = checker.operations & NOT_CAPTURABLE
        if forbidden:
            raise AssertionError(f"a recorded step uses operations a CUDA graph cannot hold: {sorted(forbidden)}")
        self.captures += 1

        def replay():
            self.replays += 1
            fresh = step()
            for kept, new in zip(_flat(outputs), _flat(fresh)):
                kept.copy_(new)

        return replay, outputs


def _flat(outputs):
    return outputs if isinstance(outputs, (tuple, list)) else (outputs,)
