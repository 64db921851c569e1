#!/bin/sh
# The prepared GPU check for the runtime's speed (one run of about 6 minutes on an H100): random
# full-size weights built on the GPU; the eager, stage-graph and frame-graph paths timed side by
# side from one process (2B bfloat16, profiled; 1B bfloat16); their float32 tokens compared for a
# fixed seed (2B); then the live take's time to the first audio and the first word (2B, the
# default network). Each step has its own time limit, so one that hangs leaves the others' figures.
#   sh bench/device_check.sh          figures go to $OUT (the device tool's) or bench/results
# Tested on a CPU with: sh bench/device_check.sh --dry-run (the tiny checkpoint, graphs recorded eagerly).
out=${OUT:-bench/results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
paths=eager,stage-graphs,frame-graphs
if [ "${1:-}" = "--dry-run" ]; then
    device="--device cpu"
    big=tiny small=""
    frames=20 profile=3 tokens=20 limit=300
    live="--model tiny --device cpu --feeds whole --voices none --skips on --runs 1 --stop-after-first-word --threads 1"
else
    device="--device cuda"
    big=2b small=1b
    frames=150 profile=20 tokens=60 limit=240
    live="--model 2b --device cuda --dtype bfloat16 --feeds whole,10,30 --voices none,s1 --skips on --runs 3"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$out/gpu.txt" 2>&1
fi
step() {  # a step's output goes to the log; a step past its limit is stopped, the next one runs
    timeout "$limit" "$py" "$@" 2>&1 | tee -a "$out/log.txt"
}
$py -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'transformers', transformers.__version__)" | tee -a "$out/log.txt"
step bench/bench_runtime.py $device --model $big --dtype bfloat16 --paths $paths --frames $frames \
    --profile $profile --json "$out/$big-bfloat16.json"
[ -n "$small" ] && step bench/bench_runtime.py $device --model $small --dtype bfloat16 --paths eager,frame-graphs \
    --frames 100 --json "$out/$small-bfloat16.json"
step bench/bench_runtime.py $device --model $big --dtype float32 --paths $paths --frames 30 \
    --check-tokens $tokens --json "$out/$big-float32.json"
step bench/bench_live.py $live --json "$out/live.json"
exit 0
