"""``dia-studio serve --ray``: the task API as a Ray Serve application (see the package's notes).

The command connects to the cluster (or starts a Ray for this machine alone), deploys the
application (the ingress on this machine, the model replicas wherever the cluster has room),
and serves until it is stopped (Ctrl-C, SIGTERM); then the application is deleted, and a Ray it
started is stopped with it.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time

import ray
from ray import serve

from app.cluster.connect import ClusterUnreachable, default_gpus_per_replica, join_cluster, deployment_failure
from app.cluster.ingress import IngressSettings, ServiceIngress
from app.cluster.replica import QUIET, ModelReplica
from app.command_line import EXIT_BAD_INPUT, say, say_serving
from core.errors import describe_error

APPLICATION = "dia-studio"
# One generation per replica (its caches serve one); more would queue inside it, hidden from the
# autoscaler, which counts what waits in front of the replicas.
GENERATIONS_PER_REPLICA = 1
INGRESS_REQUESTS = 10_000  # open connections the ingress takes (sync requests, WebSockets): all of them
TARGET_WAITING = 1  # scale up when more than this many requests are on (or waiting for) each replica
UPSCALE_DELAY_S = 10  # a replica loads its model for tens of seconds: ask for one soon
DOWNSCALE_DELAY_S = 600
# A replica scaled down (or the application stopped) finishes the take it is making for this
# long first; a task cut off after it runs again on another replica, a live take hears why.
GRACEFUL_STOP_S = 60


def serve_on_ray(args: argparse.Namespace, config) -> int:
    try:
        where = join_cluster(args.ray)
    except ClusterUnreachable as error:
        say(f"dia-studio serve: error: {error}")
        return EXIT_BAD_INPUT
    try:
        return _serve(args, config, where)
    finally:
        ray.shutdown()


def _serve(args: argparse.Namespace, config, where: str) -> int:
    gpus = default_gpus_per_replica() if args.gpus_per_replica is None else args.gpus_per_replica
    cpus = 1.0 if args.cpus_per_replica is None else args.cpus_per_replica
    scaling, slots, count = _scaling(args)
    replicas = serve.deployment(
        ModelReplica, name="Dia2Replica", max_ongoing_requests=GENERATIONS_PER_REPLICA, logging_config=QUIET,
        graceful_shutdown_timeout_s=GRACEFUL_STOP_S, ray_actor_options={"num_gpus": gpus, "num_cpus": cpus},
        **scaling,
    ).bind(args.model, device=args.device, dtype=args.dtype, threads=args.threads or max(1, int(cpus)))
    settings = IngressSettings(data_dir=args.data_dir.resolve(), model=args.model, config=config, slots=slots,
                               replica_count=count, whisper_model=args.whisper_model,
                               cost_per_minute=args.cost_per_minute)
    # The store's one writer stays on this machine: its data folder is here.
    here = "node:__internal_head__" if args.ray.startswith("ray://") else f"node:{ray.util.get_node_ip_address()}"
    ingress = serve.deployment(
        ServiceIngress, name="TaskAPI", num_replicas=1, max_ongoing_requests=INGRESS_REQUESTS,
        logging_config=QUIET, ray_actor_options={"num_cpus": 0, "resources": {here: 0.001}},
    ).bind(replicas, settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    say(f"on {where}: deploying {count} replica(s) of {args.model}, {gpus:g} GPU and {cpus:g} CPU each "
        "(each loads the model) …")
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        if not _previous_one_gone():
            say(f"dia-studio serve: error: the task API already runs on this cluster (Serve application "
                f"{APPLICATION!r}): one per cluster, since it takes Serve's one HTTP proxy. Stop that one first "
                "(Ctrl-C where it was started, or: serve shutdown)")
            return EXIT_BAD_INPUT
        serve.run(ingress, name=APPLICATION, route_prefix="/")
    except Exception as error:  # a replica that cannot load its model, a port in use, no room
        say(f"dia-studio serve: error: the application could not be deployed: "
            f"{deployment_failure(APPLICATION) or describe_error(error)}")
        _delete()
        return EXIT_BAD_INPUT
    _say_proxy_moved(args)
    say_serving(args, config)
    say("Ctrl-C stops the application (and a Ray started for it)")
    stop.wait()
    say("stopping the application …")
    _delete()
    return 0


def _previous_one_gone() -> bool:
    """No task API on the cluster, or only one being stopped, waited for (its replicas finish
    their takes first, GRACEFUL_STOP_S at most): a server started again right after a stop."""
    from ray.serve.schema import ApplicationStatus

    deadline, said = time.monotonic() + GRACEFUL_STOP_S + 30, False
    while (previous := serve.status().applications.get(APPLICATION)) is not None:
        if previous.status != ApplicationStatus.DELETING or time.monotonic() > deadline:
            return False
        if not said:
            say("waiting for the task API stopped before to finish stopping (its replicas end their takes) …")
            said = True
        time.sleep(0.5)
    return True


def _scaling(args: argparse.Namespace) -> tuple[dict, int, str]:
    """Serve's replica options, the generations the ingress sends at once, and the count as said."""
    if args.min_replicas is not None:
        autoscaling = {"min_replicas": args.min_replicas, "max_replicas": args.max_replicas,
                       "target_ongoing_requests": TARGET_WAITING, "upscale_delay_s": UPSCALE_DELAY_S,
                       "downscale_delay_s": DOWNSCALE_DELAY_S}
        # One more than the replicas at most: the one waiting is what makes the autoscaler add one.
        return {"autoscaling_config": autoscaling}, args.max_replicas + 1, f"{args.min_replicas}–{args.max_replicas}"
    replicas = args.replicas or 1
    return {"num_replicas": replicas}, replicas, str(replicas)


def _delete() -> None:
    """The application deleted, and Serve stopped with it when nothing else of it runs: the next
    start places Serve's HTTP proxy at its own --host and --port."""
    try:
        serve.delete(APPLICATION)
        if not serve.status().applications:
            serve.shutdown()
    except Exception:  # nothing was deployed, or the cluster is gone already
        pass


def _say_proxy_moved(args: argparse.Namespace) -> None:
    """Serve has one HTTP proxy per cluster, placed when Serve first started there: on a cluster
    where it runs already, the application is served at its address, whatever --host and --port."""
    try:
        http = serve.context._get_global_client().http_config  # no public way to read it yet
    except Exception:  # a Ray whose internals moved: the flags are all there is to go by
        return
    if (http.host, http.port) != (args.host, args.port):
        say(f"note: Serve already runs on this cluster with its HTTP proxy at {http.host}:{http.port} (one per "
            f"cluster, set when Serve first started there): the task API is served there, not at "
            f"{args.host}:{args.port}")
        args.host, args.port = http.host, http.port
