"""What `dia-studio serve` adds over calling the runtime directly, and what polling costs.

    python bench/bench_service.py [--model FOLDER] [--repeat 5] [--pollers 20] [--interval 0.1]

One script, one seed, rendered and encoded (WAV) four ways, each the median of the repeats:
  direct      Dia2Runtime.render + encode_audio in this process (the baseline)
  sync        POST /v1 with deliveryMethod sync, answered with the result (base64Data)
  async       POST async, then getResponse every 50 ms until the result is there
  polled      sync again while POLLERS threads each call getResponse every INTERVAL seconds
              for a finished task (its items include the audio)
and the getResponse calls per second those pollers got through meanwhile. The model defaults to
the tiny parity checkpoint (its generation is quick, so the server's own overhead shows); the
machine is printed first. The server runs in its own process, as users run it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_runtime import machine  # noqa: E402
from tests.core.dia2.golden import CHECKPOINT  # noqa: E402
from tests.service.server_process import ServerProcess  # noqa: E402

SCRIPT = "[S1] Are you coming to the rehearsal tonight? [S2] Only if you bring the good coffee."
SEED = 17


def _task(delivery: str) -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": SCRIPT}, "seed": SEED,
            "outputFormat": "WAV", "outputType": "base64Data", "deliveryMethod": delivery}


def direct(model: str, repeat: int) -> list[float]:
    import torch

    from core.audio.export import encode_audio
    from core.audio.formats import ExportSettings
    from core.dia2.events import GenerationRequest
    from core.dia2.runtime import Dia2Runtime
    from core.params import GenerationParams

    runtime = Dia2Runtime.load(model, device="cpu", dtype="float32", threads=1)
    torch.set_num_threads(1)
    request = GenerationRequest(SCRIPT, GenerationParams.create(seed=SEED))
    times = []
    for _ in range(repeat + 1):  # the first run warms up, as the server's first task would
        started = time.perf_counter()
        (take,) = runtime.render(request)
        encode_audio(take.audio, ExportSettings.create("WAV"))
        times.append(time.perf_counter() - started)
    return times[1:]


def over_http(server: ServerProcess, repeat: int, pollers: int, interval_s: float) -> dict[str, list[float] | float]:
    server.post([_task("sync")])  # warm-up
    sync, asynchronous, polled = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        status, _ = server.post([_task("sync")])
        assert status == 200
        sync.append(time.perf_counter() - started)

        task = _task("async")
        started = time.perf_counter()
        server.post([task])
        while server.post([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])[1]["data"][0]["status"] \
                != "success":
            time.sleep(0.05)
        asynchronous.append(time.perf_counter() - started)

    stop, counts = threading.Event(), []
    finished = _task("async")  # pollers ask for a real task's results (and its audio)
    server.post([{**finished, "deliveryMethod": "sync"}])

    def poll() -> None:
        count = 0
        while not stop.wait(interval_s):
            server.post([{"taskType": "getResponse", "taskUUID": finished["taskUUID"]}])
            count += 1
        counts.append(count)

    threads = [threading.Thread(target=poll) for _ in range(pollers)]
    for thread in threads:
        thread.start()
    started_all = time.perf_counter()
    for _ in range(repeat):
        started = time.perf_counter()
        server.post([_task("sync")])
        polled.append(time.perf_counter() - started)
    stop.set()
    for thread in threads:
        thread.join()
    return {"sync": sync, "async": asynchronous, "polled": polled,
            "polls_per_s": sum(counts) / (time.perf_counter() - started_all)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(CHECKPOINT))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.1,
                        help="seconds between one poller's calls (0: as fast as it can; the SDKs wait 0.5-10 s)")
    args = parser.parse_args()
    print(f"machine: {machine()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    print(f"model: {args.model}; script of {len(SCRIPT.split())} words; WAV; median of {args.repeat}")
    baseline = statistics.median(direct(args.model, args.repeat))
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder) / "data", model=args.model)
        try:
            server.wait_until_ready()
            figures = over_http(server, args.repeat, args.pollers, args.interval)
        finally:
            server.stop()
    print(f"  {'direct (baseline)':<34} {baseline * 1000:8.0f} ms")
    for name in ("sync", "async", "polled"):
        median = statistics.median(figures[name])
        label = f"sync, {args.pollers} polling every {args.interval:g} s" if name == "polled" else name
        print(f"  {label:<34} {median * 1000:8.0f} ms   {median / baseline:5.2f}x direct")
    print(f"  getResponse calls per second while generating: {figures['polls_per_s']:.0f}")


if __name__ == "__main__":
    main()
