"""``dia-studio serve``: the hosted Dia2 task API, answered by the local model.

The HTTP server is up at once (``/health`` answers 503) while the model loads on a thread, with
progress on stderr; queued tasks start as soon as it is ready. A host other than loopback needs
``--api-keys``: the server never listens on a network without a key.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
import threading
from pathlib import Path

from app.cluster_flags import add_cluster_arguments, check_cluster_flags
from app.command_line import (EXIT_BAD_INPUT, CommandLineError, add_warm_voices_argument, load_engine, read_lexicons,
                              say, say_serving)
from core.errors import describe_error
from core.params import DEFAULT_MODEL, MODEL_IDS

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dia-studio serve", description="Serve the Dia2 task API (POST /v1).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="dia2-2b, dia2-1b, a Hub id or a local folder")
    parser.add_argument("--serve-as", default="dia2-2b", choices=["dia2-2b", "dia2-1b"],
                        help="which model a local folder is (the model ids it answers to)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or int8")
    parser.add_argument("--threads", type=int, help="processor threads for the model")
    add_warm_voices_argument(parser)
    parser.add_argument("--lexicon", action="append", type=Path, default=[], metavar="FILE",
                        help="a pronunciation lexicon (.json, .csv or .pls) every task's and live take's words are "
                             "read by (repeatable; a later file's entries win)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(),
                        help="tasks, results and media live here (default: %(default)s)")
    parser.add_argument("--api-keys", type=Path, metavar="FILE",
                        help="a file of API keys, one per line; required on a host other than loopback")
    parser.add_argument("--queue-limit", type=int, default=64, help="tasks waiting at most (then 429)")
    parser.add_argument("--whisper-model", default=None,
                        help="Whisper model for voices given without words: a name or a .pt file "
                             "(default: large-v3 on a GPU, small on a processor)")
    parser.add_argument("--allow-private-urls", action="store_true",
                        help="let voice URLs, webhooks and uploads reach loopback and private addresses "
                             "(local setups and tests; off by default against request forgery)")
    parser.add_argument("--retry-deliveries-for", type=float, default=900, metavar="SECONDS",
                        help="how long a failing webhook or upload is retried (default 900)")
    parser.add_argument("--live-idle-timeout", type=float, default=20, metavar="SECONDS",
                        help="a live take (/v1/live) whose text stops coming this long without an end is "
                             "ended (default 20)")
    parser.add_argument("--cost-per-minute", type=float, default=0.0,
                        help="USD per minute of audio reported as cost with includeCost (default 0)")
    add_cluster_arguments(parser, scaling=True)
    return parser


def run_serve(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        keys = _read_keys(args.api_keys) if args.api_keys else ()
        if not keys and not _is_loopback(args.host):
            raise ValueError(f"--host {args.host} is reachable from other machines: give --api-keys FILE")
        if args.live_idle_timeout <= 0:
            raise ValueError(f"--live-idle-timeout {args.live_idle_timeout:g}: give a number of seconds above 0")
        if args.queue_limit < 1:
            raise ValueError(f"--queue-limit {args.queue_limit}: give 1 or more")
        if args.warm_voices_mb is not None and args.warm_voices_mb < 0:
            raise ValueError(f"--warm-voices-mb {args.warm_voices_mb}: give 0 or more")
        check_cluster_flags(args)
        lexicon = read_lexicons(args.lexicon)
        args.data_dir.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError, CommandLineError) as error:
        print(f"dia-studio serve: error: {describe_error(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    config = service_config(args, keys, lexicon)
    if args.ray is not None:
        try:
            from app.cluster.serving import serve_on_ray
        except ImportError as error:
            print(f"dia-studio serve: error: --ray needs the cluster extra (pip install 'dia-studio[cluster]'): "
                  f"{error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return serve_on_ray(args, config)

    import uvicorn

    from core.service.http_app import create_app
    from core.service.task_runner import TaskRunner
    from core.service.task_service import TaskService
    from core.service.task_store import TaskStore

    store = TaskStore(args.data_dir)
    runner = TaskRunner(store, cost_per_minute=args.cost_per_minute)
    service = TaskService(store, runner, config)
    service.start()
    threading.Thread(target=_load_model, args=(args, runner), name="model-load", daemon=True).start()
    # h11 and asyncio named: installing Ray (the cluster extra) adds httptools and uvloop, which
    # uvicorn would otherwise switch to unasked.
    server = uvicorn.Server(uvicorn.Config(create_app(service), host=args.host, port=args.port, log_level="warning",
                                           http="h11", loop="asyncio"))
    say_serving(args, config)
    try:
        server.run()
    finally:
        service.stop()
        store.close()
    return 0


def service_config(args: argparse.Namespace, keys: tuple[str, ...], lexicon=None):
    """The task service's settings from the command line (one server, or a cluster's ingress);
    ``lexicon``: the ``--lexicon`` files read (None: none)."""
    from core.service.task_service import ServiceConfig
    from core.service.voice_inputs import FetchPolicy

    repo = MODEL_IDS.get(args.model, MODEL_IDS[args.serve_as])
    served = tuple(model_id for model_id, target in MODEL_IDS.items() if target == repo)
    return ServiceConfig(api_keys=keys, queue_limit=args.queue_limit, cost_per_minute=args.cost_per_minute,
                         served_models=served, fetch=FetchPolicy(allow_private=args.allow_private_urls),
                         retry_deliveries_for_s=args.retry_deliveries_for, live_idle_timeout_s=args.live_idle_timeout,
                         **({} if lexicon is None else {"lexicon": lexicon}))


def _load_model(args: argparse.Namespace, runner) -> None:
    """The model loaded on the in-process engine, as ``render`` loads its own (``load_engine``:
    --model, --device, --dtype, --threads and --whisper-model), then given to the task runner."""
    try:
        engine = load_engine(args)
    except Exception as error:  # the server goes on answering: /health 503 with the reason
        runner.model_failed(describe_error(error))
        say(f"dia-studio serve: the model could not be loaded: {describe_error(error)}")
        return
    # The engine hears voices given without words; its Whisper loads on first use only, so a
    # server whose voices all have words never loads it.
    runner.transcriber = engine
    runner.model_ready(engine)
    say("/health answers 200")


def _read_keys(path: Path) -> tuple[str, ...]:
    keys = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.lstrip().startswith("#"))
    if not keys:
        raise ValueError(f"the API key file {path} holds no key")
    return keys


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def default_data_dir(platform: str = sys.platform, environ=os.environ) -> Path:
    """Where the system keeps an application's own data (as the window's settings live in its
    system's place): %LOCALAPPDATA% on Windows, Application Support on macOS, XDG elsewhere."""
    if platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "dia-studio" / "service"
