#!/bin/sh
# The prepared GPU check for the runtime's speed (one run of about 5 minutes on an H100): random
# full-size weights built on the GPU; the eager and CUDA-graph paths timed side by side from one
# process (2B and 1B, bfloat16); their float32 tokens compared for a fixed seed; then the live
# take's time to the first audio and the first word (2B, graphs, with and without the skip).
#   sh bench/device_check.sh          figures go to $OUT (the device tool's) or bench/results
# Tested on a CPU with: sh bench/device_check.sh --dry-run (the tiny checkpoint, graphs recorded eagerly).
out=${OUT:-bench/results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
if [ "${1:-}" = "--dry-run" ]; then
    set -- --model tiny --device cpu --paths eager,graphs
    sizes="tiny"
    live="--model tiny --device cpu --feeds whole --voices none --skips on --runs 1 --stop-after-first-word --threads 1"
else
    live="--model 2b --device cuda --dtype bfloat16 --runs 5"
    set -- --device cuda
    sizes="2b 1b"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$out/gpu.txt" 2>&1
fi
$py -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" \
    | tee -a "$out/log.txt"
for size in $sizes; do
    $py bench/bench_runtime.py "$@" --model "$size" --dtype bfloat16 --frames 150 \
        --json "$out/$size-bfloat16.json" 2>&1 | tee -a "$out/log.txt"
done
first=${sizes%% *}
$py bench/bench_runtime.py "$@" --model "$first" --dtype float32 --frames 40 --check-tokens 60 \
    --json "$out/$first-float32.json" 2>&1 | tee -a "$out/log.txt"
$py bench/bench_live.py $live --json "$out/live.json" 2>&1 | tee -a "$out/log.txt"
