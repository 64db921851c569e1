"""Joining the Ray cluster that ``--ray`` names, or starting one for this machine alone."""

from __future__ import annotations

import re

import ray

from app.cluster_flags import THIS_MACHINE
from core.errors import DiaStudioError, describe_error


class ClusterUnreachable(DiaStudioError):
    pass


def join_cluster(address: str) -> str:
    """Connect this process to Ray (``ray.shutdown()`` leaves a cluster that was joined, and
    stops one that was started); returns where, as said to the user."""
    try:
        if address == THIS_MACHINE:
            # RAY_ADDRESS, or the cluster ``ray start`` made on this machine, else a new one here
            # (without the dashboard: a gigabyte of processes nobody here looks at).
            context = ray.init(include_dashboard=False, logging_level="warning")
        else:
            context = ray.init(address=address, logging_level="warning")
    except Exception as error:
        where = "on this machine" if address == THIS_MACHINE else f"at {address}"
        raise ClusterUnreachable(f"cannot reach the Ray cluster {where}: {describe_error(error)}") from None
    resources = ray.cluster_resources()
    return (f"Ray at {context.address_info.get('gcs_address', address)} ({len(ray.nodes())} node(s), "
            f"{resources.get('CPU', 0):g} CPU, {resources.get('GPU', 0):g} GPU)")


def default_gpus_per_replica() -> float:
    """One GPU each where the cluster has GPUs, else none (replicas on processors)."""
    return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


_EXCEPTION_LINE = re.compile(r"^\s*[\w.]*(?:Error|Exception): (.+)$", re.MULTILINE)


def deployment_failure(application: str) -> str | None:
    """Why an application's replicas could not start, from Serve's status of it (which holds a
    replica's traceback): the message of the last exception there; None if it says none."""
    from ray import serve

    try:
        deployments = serve.status().applications[application].deployments.values()
    except Exception:  # Serve itself is not up, or the application is gone
        return None
    return last_exception("\n".join(deployment.message for deployment in deployments))


def last_exception(text: str) -> str | None:
    """The message of the last exception in a traceback that Ray relays (a replica's own error)."""
    messages = _EXCEPTION_LINE.findall(text)
    return messages[-1].strip() if messages else None
