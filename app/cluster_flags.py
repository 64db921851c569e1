"""The flags that put ``dia-studio serve`` and ``dia-studio batch`` on a Ray cluster. Only these
are read without Ray installed: the work itself is ``app.cluster`` (the cluster extra)."""

from __future__ import annotations

import argparse

THIS_MACHINE = "this machine"  # --ray without ADDRESS


def add_cluster_arguments(parser: argparse.ArgumentParser, scaling: bool) -> None:
    """``scaling``: replicas may scale on queue depth (a server's), not only be a fixed number."""
    cluster = parser.add_argument_group("on a Ray cluster (pip install 'dia-studio[cluster]'; docs/cluster.md)")
    cluster.add_argument("--ray", nargs="?", const=THIS_MACHINE, metavar="ADDRESS",
                         help="on a Ray cluster: at ADDRESS (host:port of its head, or ray://host:port), or, "
                              "without ADDRESS, the one this machine is part of (ray start), else a Ray started "
                              "for this machine alone")
    cluster.add_argument("--replicas", type=int, metavar="N", help="model replicas, each one model on its device (default 1)")
    if scaling:
        cluster.add_argument("--min-replicas", type=int, metavar="N",
                             help="with --max-replicas: replicas scale between the two on queue depth")
        cluster.add_argument("--max-replicas", type=int, metavar="N")
    cluster.add_argument("--gpus-per-replica", type=float, metavar="GPUS",
                         help="GPUs each replica holds (default 1 when the cluster has GPUs, else 0: on processors)")
    cluster.add_argument("--cpus-per-replica", type=float, metavar="CORES",
                         help="processor cores each replica holds (default 1; its torch threads unless --threads)")


def check_cluster_flags(args: argparse.Namespace) -> None:
    """Raises ValueError, saying which flag and why, for cluster flags that cannot go together."""
    minimum, maximum = getattr(args, "min_replicas", None), getattr(args, "max_replicas", None)
    given = [flag for flag, value in (("--replicas", args.replicas), ("--min-replicas", minimum),
                                      ("--max-replicas", maximum), ("--gpus-per-replica", args.gpus_per_replica),
                                      ("--cpus-per-replica", args.cpus_per_replica))
             if value is not None]
    if args.ray is None:
        if given:
            raise ValueError(f"{given[0]} applies only with --ray (on a Ray cluster)")
        return
    if args.replicas is not None and (minimum is not None or maximum is not None):
        raise ValueError("give --replicas N for a fixed number, or --min-replicas and --max-replicas to scale: "
                         "not both")
    if (minimum is None) != (maximum is None):
        raise ValueError("--min-replicas and --max-replicas go together (replicas scale between the two)")
    for flag, value in (("--replicas", args.replicas), ("--max-replicas", maximum)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} {value}: give 1 or more")
    if minimum is not None and not 0 < minimum <= maximum:
        raise ValueError(f"--min-replicas {minimum}: give 1 or more, up to --max-replicas {maximum} (a replica "
                         "loads its model for tens of seconds before it helps: keep one up)")
    for flag, value in (("--gpus-per-replica", args.gpus_per_replica), ("--cpus-per-replica", args.cpus_per_replica)):
        if value is not None and value < 0:
            raise ValueError(f"{flag} {value:g}: give 0 or more")
