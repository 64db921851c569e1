"""The task API as the ingress of the Serve application: the same FastAPI app as a single
``dia-studio serve`` (``core.service.http_app``), over a task service whose engine is the model
replicas (``ClusterEngine``). It is one replica, on the machine the command was started on: the
task store's one writer, its files on that machine's disk."""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ray import serve

from core.errors import describe_error
from core.service.task_service import ServiceConfig

log = logging.getLogger("dia_studio.cluster")


@dataclass(frozen=True)
class IngressSettings:
    data_dir: Path
    model: str  # as the replicas load it: the ingress reads its tokenizer and codec
    config: ServiceConfig
    slots: int  # generations at once: the replicas there are, or may be when scaled up
    replica_count: str  # as said to clients: "2", "1–4"
    whisper_model: str | None = None
    cost_per_minute: float = 0.0


@serve.ingress()
class ServiceIngress:
    def __init__(self, replicas, settings: IngressSettings):
        from core.service.task_runner import TaskRunner
        from core.service.task_service import TaskService
        from core.service.task_store import TaskStore

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = TaskStore(settings.data_dir)
        self.runner = TaskRunner(self.store, cost_per_minute=settings.cost_per_minute, workers=settings.slots)
        self.service = TaskService(self.store, self.runner, settings.config)
        self.service.start()
        threading.Thread(target=self._connect, args=(replicas, settings), name="replicas", daemon=True).start()

    def __serve_build_asgi_app__(self):
        from core.service.http_app import create_app

        return create_app(self.service)

    def _connect(self, replicas, settings: IngressSettings) -> None:
        """Ready (``/health`` 200) once the checkpoint's text and codec are here and a replica
        answers; until then ``/health`` says loading, or why it failed."""
        from app.cluster.cluster_engine import ClusterEngine, CpuWhisper
        from app.cluster.mailbox import TextMailbox
        from core.dia2.script_codec import ScriptCodec

        try:
            script_codec = ScriptCodec.load(settings.model)
            described = replicas.describe.remote().result()
            engine = ClusterEngine(script_codec, replicas, TextMailbox.remote(), described,
                                   f"{settings.replica_count} Ray Serve replica(s)", CpuWhisper(settings.whisper_model))
        except Exception as error:  # /health answers 503 with the reason
            self.runner.model_failed(describe_error(error))
            log.error("the replicas cannot be used: %s", describe_error(error))
            return
        self.runner.transcriber = engine  # Whisper here, on the processor, at the first voice without words
        self.runner.model_ready(engine)
        log.info("ingress ready: %s on %s", engine.info.name, engine.info.device)

    def __del__(self):
        service = getattr(self, "service", None)
        if service is not None:
            service.stop()
            self.store.close()
