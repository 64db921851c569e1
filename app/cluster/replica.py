"""One model on one device, generating for the cluster: a Serve replica of ``dia-studio serve
--ray`` (``serving``), or an actor of ``dia-studio batch --ray`` (``batch_engines``).

The model is loaded on the in-process engine (``core.engine.in_process``), opened where every
face opens its engine (``core.engine.choice.open_engine``). Calls carry everything a generation
needs (the script, parameters, voice prompts already encoded), so any replica can take any
request and nothing is kept between calls. Cancels and a live take's text come through the
mailbox (``mailbox.TextMailbox``) under the take's id.
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
        from core.engine.choice import EngineChoice, open_engine

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
        self.engine = open_engine(EngineChoice(), threads=threads)  # in-process: this actor is the model's process
        info = self.engine.load(model, device=device, precision=dtype)
        log.info("replica %s: %s ready on %s (%s)", os.getpid(), info.name, info.device, info.precision)

    def describe(self) -> dict:
        """What this replica runs, as the ingress tells its clients (``ClusterEngine``)."""
        info = self.engine.info
        return {"name": info.name, "device": info.device, "precision": info.precision,
                "sampleRate": info.sample_rate, "frameRate": info.frame_rate,
                "weightsBytes": info.weights_bytes, "node": ray.util.get_node_ip_address(), "pid": os.getpid()}

    def generate(self, request: GenerationRequest, mailbox, take: str) -> Iterator[GenerationEvent]:
        """The request's events; a ``("cancel",)`` in the mailbox ends it as a cancel does."""
        log.info("replica %s: generating %d take(s) of %d characters", os.getpid(), request.params.number_results,
                 len(request.script))
        cancel = threading.Event()
        watcher = threading.Thread(target=_watch_for_cancel, args=(mailbox, take, cancel), daemon=True)
        watcher.start()
        try:
            yield from self.engine.generate(request, cancel)
        finally:
            cancel.set()  # also ends the watcher (a consumer gone mid-stream stops the take here)
            mailbox.close.remote(take)

    def live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...], context: SpokenContext | None,
                  mailbox, take: str) -> Iterator[GenerationEvent]:
        """A live take whose text, end and cancel arrive in the mailbox while it is made."""
        live = self.engine.open_live_take(params, voices, context)
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
