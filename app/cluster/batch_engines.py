"""``dia-studio batch --ray``: the batch's renders on model replicas spread over a Ray cluster.

Each replica is a Ray actor (``replica.ModelReplica``, as the server's replicas are) on its own
GPU, and the batch runner's workers have one each: a render goes to the worker whose replica is
free. Plain actors rather than a Serve application: a batch needs no HTTP, and starting Serve
would fix the cluster's HTTP port for a ``serve --ray`` to come. This machine keeps the
tokenizer and codec (``ScriptCodec``: scripts checked, voices encoded once) and Whisper: each
replica is a ``ClusterEngine`` over its actor, all sharing one Whisper; closing any stops the
replicas and leaves the cluster, once (the batch closes them all when it is done).

A replica lost mid-render (killed, out of memory, its node gone) fails that render with
``EngineFailed``; Ray starts the actor again and the runner tries the render once more.
"""

from __future__ import annotations

import argparse
import threading

import ray

from app.command_line import CommandLineError, say
from app.cluster.cluster_engine import ClusterEngine, CpuWhisper
from app.cluster.connect import ClusterUnreachable, default_gpus_per_replica, join_cluster, last_exception
from app.cluster.mailbox import TextMailbox
from app.cluster.replica import ModelReplica
from core.params import DEFAULT_MODEL

RESTARTS = 3  # how often Ray starts a lost replica again before its worker's renders fail


class ActorReplica:
    """A replica actor called as ``ClusterEngine`` calls a Serve handle:
    ``options(method_name=…, stream=True).remote(…)`` streams a method's events."""

    def __init__(self, actor):
        self._actor = actor

    def options(self, method_name: str, stream: bool = True) -> "_StreamedCall":
        return _StreamedCall(getattr(self._actor, method_name))

    def describe(self) -> dict:
        return ray.get(self._actor.describe.remote())


class _StreamedCall:
    def __init__(self, method):
        self._method = method

    def remote(self, *args) -> "_Stream":
        return _Stream(self._method.options(num_returns="streaming").remote(*args))


class _Stream:
    def __init__(self, refs):
        self._refs = refs

    def __iter__(self):
        for ref in self._refs:
            yield ray.get(ref)

    def cancel(self) -> None:
        ray.cancel(self._refs)


def open_cluster_engines(args: argparse.Namespace) -> list[ClusterEngine]:
    try:
        where = join_cluster(args.ray)
    except ClusterUnreachable as error:
        raise CommandLineError(str(error)) from None
    actors: list = []
    leave = _leaving(actors)
    try:
        return _open(args, where, actors, leave)
    except BaseException:
        leave()
        raise


def _open(args: argparse.Namespace, where: str, actors: list, leave) -> list[ClusterEngine]:
    from core.dia2.script_codec import ScriptCodec

    model = args.model or DEFAULT_MODEL
    count = args.replicas or 1
    gpus = default_gpus_per_replica() if args.gpus_per_replica is None else args.gpus_per_replica
    cpus = 1.0 if args.cpus_per_replica is None else args.cpus_per_replica
    say(f"on {where}: starting {count} replica(s) of {model}, {gpus:g} GPU and {cpus:g} CPU each …")
    replica = ray.remote(ModelReplica).options(num_gpus=gpus, num_cpus=cpus, max_restarts=RESTARTS)
    actors += [replica.remote(model, device=args.device, dtype=args.dtype, threads=args.threads or max(1, int(cpus)))
               for _ in range(count)]
    replicas = [ActorReplica(actor) for actor in actors]
    try:
        described = [one.describe() for one in replicas]  # waits for every replica's model
    except ray.exceptions.RayActorError as error:  # a replica that cannot load its model
        raise CommandLineError(f"the replicas could not start: {_cause(error)}") from None
    script_codec, mailbox = ScriptCodec.load(model), TextMailbox.remote()
    whisper = CpuWhisper(args.whisper_model)  # one for all the engines: it loads once
    engines = [ClusterEngine(script_codec, one, mailbox, about, f"Ray replica {number} of {count}", whisper,
                             on_close=leave)
               for number, (one, about) in enumerate(zip(replicas, described), start=1)]
    say(f"rendering on {count} replica(s): {', '.join(sorted({about['device'] for about in described}))}")
    return engines


def _leaving(actors: list):
    """Stop the replicas and leave Ray, the first time it is called."""
    once = threading.Lock()

    def leave() -> None:
        if not once.acquire(blocking=False):
            return
        for actor in actors:
            ray.kill(actor)
        ray.shutdown()

    return leave


def _cause(error: BaseException) -> str:
    """The replica's own exception, from the actor's error (which holds its traceback)."""
    return last_exception(str(error)) or str(error)
