"""One model on one device, generating for the cluster: a Serve replica of ``dia-studio serve
--ray`` (``serving``), or an actor of ``dia-studio batch --ray`` (``batch_engines``).

Calls carry everything a generation needs (the script, parameters, voice prompts already
encoded), so any replica can take any request and nothing is kept between calls. Cancels and a
live take's text come through the mailbox (``mailbox.TextMailbox``) under the take's id.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator

import ray

from core.dia2.events import GenerationEvent, GenerationRequest
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.engine.live_relay import fed_events
from core.params import GenerationParams

log = logging.getLogger("dia_studio.cluster")
QUIET = {"enable_access_log": False}  # Serve's line per call: the replicas and the ingress say what they do


class ModelReplica:
    def __init__(self, model: str, device: str = "auto", dtype: str = "auto", threads: int | None = None):
        from core.dia2.runtime import Dia2Runtime

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
        self.runtime = Dia2Runtime.load(model, device=device, dtype=dtype, threads=threads)
        log.info("replica %s: %s ready on %s (%s)", os.getpid(), self.runtime.name, self.runtime.device,
                 self.runtime.precision)

    def describe(self) -> dict:
        """What this replica runs, as the ingress tells its clients (``ClusterRuntime``)."""
        runtime = self.runtime
        return {"name": runtime.name, "device": str(runtime.device), "precision": runtime.precision,
                "sampleRate": runtime.sample_rate, "frameRate": runtime.frame_rate,
                "weightsBytes": runtime.weights_bytes, "node": ray.util.get_node_ip_address(), "pid": os.getpid()}

    def generate(self, request: GenerationRequest, mailbox, take: str) -> Iterator[GenerationEvent]:
        """The request's events; a ``("cancel",)`` in the mailbox ends it as a cancel does."""
        log.info("replica %s: generating %d take(s) of %d characters", os.getpid(), request.params.number_results,
                 len(request.script))
        cancel = threading.Event()
        watcher = threading.Thread(target=_watch_for_cancel, args=(mailbox, take, cancel), daemon=True)
        watcher.start()
        try:
            yield from self.runtime.generate(request, cancel)
        finally:
            cancel.set()  # also ends the watcher (a consumer gone mid-stream stops the take here)
            mailbox.close.remote(take)

    def live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...], context: SpokenContext | None,
                  mailbox, take: str) -> Iterator[GenerationEvent]:
        """A live take whose text, end and cancel arrive in the mailbox while it is made."""
        live = self.runtime.open_live_take(params, voices, context)
        log.info("replica %s: a live take (seed %d)", os.getpid(), live.seed)
        try:
            yield from fed_events(live, lambda: ray.get(mailbox.collect.remote(take)))
        finally:
            live.close()
            mailbox.close.remote(take)


def _watch_for_cancel(mailbox, take: str, cancel: threading.Event) -> None:
    while not cancel.is_set():
        if any(message[0] == "cancel" for message in ray.get(mailbox.collect.remote(take))):
            cancel.set()
