"""The service and batch renders on a Ray cluster (the optional ``dia-studio[cluster]`` extra).
Nothing in ``core/`` or the window imports this package: Ray is only needed where it runs.

How ``dia-studio serve --ray`` shares the work (``serving``):

- The **ingress** (``ingress.ServiceIngress``, one Serve replica, placed on the machine where the
  command was started) is the same task API app as a single server: it owns the task store (its
  SQLite file and media folder live on that machine's disk, written by that one process, so the
  store stays correct however many nodes generate), checks scripts, encodes and transcribes
  voices (``core.dia2.script_codec``: tokenizer, codec, Whisper; no transformer), and encodes and
  serves the results.
- The **model replicas** (``replica.ModelReplica``, N Serve replicas, each one model on its
  device: ``--gpus-per-replica``) only generate: a request, or a live take, in; its events out,
  streamed straight back through Serve. Serve sends each to a free replica (one generation per
  replica at a time) and scales them on queue depth.
- The text of live takes, and cancels, reach the replica making the take through a mailbox
  actor (``mailbox.TextMailbox``), since Serve routes every call anew.
"""
