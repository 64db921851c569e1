"""``dia-studio batch --ray``: the batch's renders on a Ray cluster's model replicas.

The replicas are the server's (``replica.ModelReplica``), deployed as a Serve application of their
own without HTTP; this machine keeps the tokenizer and codec (``ScriptCodec``) and Whisper, and
the batch runner's workers (one per replica) each send one generation at a time, which Serve
routes to a free replica. A replica lost mid-render fails that render with ``EngineFailed``, and
the runner tries it once more (Serve has replaced the replica meanwhile).
"""

from __future__ import annotations

import argparse

import ray
from ray import serve

from app.cli import CommandLineError, _say
from app.cluster.cluster_runtime import ClusterRuntime
from app.cluster.connect import ClusterUnreachable, default_gpus_per_replica, join_cluster, deployment_failure
from app.cluster.mailbox import TextMailbox
from app.cluster.replica import QUIET, ModelReplica
from core.engine.in_process import InProcessEngine
from core.params import DEFAULT_MODEL

APPLICATION = "dia-studio-batch"


class ClusterEngine(InProcessEngine):
    """The runtime of the replicas as an engine; closing it (once for all the workers) deletes
    the application and leaves Ray."""

    def close(self) -> None:
        if self.runtime is None:
            return  # closed already: every worker shares this one
        super().close()
        try:
            serve.delete(APPLICATION)
        finally:
            ray.shutdown()


def open_cluster_engines(args: argparse.Namespace) -> list[ClusterEngine]:
    try:
        where = join_cluster(args.ray)
    except ClusterUnreachable as error:
        raise CommandLineError(str(error)) from None
    try:
        return _open(args, where)
    except BaseException:
        _leave()
        raise


def _open(args: argparse.Namespace, where: str) -> list[ClusterEngine]:
    from core.dia2.script_codec import ScriptCodec

    model = args.model or DEFAULT_MODEL
    count = args.replicas or 1
    gpus = default_gpus_per_replica() if args.gpus_per_replica is None else args.gpus_per_replica
    cpus = 1.0 if args.cpus_per_replica is None else args.cpus_per_replica
    _say(f"on {where}: starting {count} replica(s) of {model}, {gpus:g} GPU and {cpus:g} CPU each …")
    replicas = serve.deployment(ModelReplica, name="Dia2Replica", num_replicas=count, max_ongoing_requests=1,
                                logging_config=QUIET, ray_actor_options={"num_gpus": gpus, "num_cpus": cpus})
    try:
        handle = serve.run(replicas.bind(model, device=args.device, dtype=args.dtype,
                                         threads=args.threads or max(1, int(cpus))),
                           name=APPLICATION, route_prefix=None)
    except Exception as error:  # a replica that cannot load its model, no room on the cluster
        raise CommandLineError(f"the replicas could not start: {deployment_failure(APPLICATION) or error}") from None
    runtime = ClusterRuntime(ScriptCodec.load(model), handle, TextMailbox.remote(), handle.describe.remote().result(),
                             str(count))
    engine = ClusterEngine(loader=lambda *_, **__: runtime, speech_model=args.whisper_model)
    engine.load(model)
    _say(f"rendering on {runtime.generates_on}")
    return [engine] * count  # one worker per replica, all through the one application


def _leave() -> None:
    try:
        serve.delete(APPLICATION)
    except Exception:  # nothing was deployed
        pass
    ray.shutdown()
