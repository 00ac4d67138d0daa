#!/usr/bin/env bash
# session 14, call H (carry .gpu: the lean bundle of 40d8b15 plus llama.cpp's source in anchors/): the whole 8B-shaped
# model on the H100 with the wgmma prompt path fixed (pdl_wait), against llama.cpp CUDA built in the same call.
# Ours: E2eBench synthetic FQ6 W6A8 (Q8_0 head), prompt 512, 128 decode steps, median of 3 runs; batches 1, 8, 32;
# wgmma on/off alternating. llama.cpp: llama-bench -ngl 99 -p 512 -n 128 on a random F16 GGUF of the same shape and its
# Q8_0 / Q6_K (llama-quantize).
set -o pipefail
G=$(pwd)/.gpu; T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
for c in $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz; do [ -f $c ] && xz -df $c; done
cp models/stories260K.bin $G/shared/models/ 2>/dev/null
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u; nproc
mkdir -p /tmp/e2e
if [ ! -f /tmp/e2e/m-f16.gguf ] && [ ! -f /tmp/synth.started ]; then
  touch /tmp/synth.started
  setsid bash -c "python3 $G/anchors/synth_gguf.py llama-3.1-8b /tmp/e2e/m-f16.part > /tmp/synth.log 2>&1 && mv /tmp/e2e/m-f16.part /tmp/e2e/m-f16.gguf" < /dev/null > /dev/null 2>&1 &
fi
STEPS=build bash $G/e2e-bench.sh > /dev/null 2>&1; el "llama.cpp build started"
STEPS=fq6s BATCHES=1,8,32 VARIANTS="default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el "ours b1,8,32"
STEPS=fq6s BATCHES=1 VARIANTS="cuda.wgmma=false default cuda.wgmma=false" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el "ours wgmma on/off"
for i in $(seq 1 60); do [ -f /tmp/e2e/m-f16.gguf ] && break; sleep 5; done; tail -1 /tmp/synth.log; el "F16 file"
STEPS=llama bash $G/e2e-bench.sh 2>&1 | grep -E "^\| llama|^\| model|build|rror"; el "llama.cpp"
[ $(( $(date +%s) - T0 )) -lt 520 ] && { STEPS=fq6s BATCHES=1 VARIANTS="default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el "ours again"; }
for f in "$OUT"/*; do n=$(basename "$f" | tr '=,' '__'); [ "$n" = "$(basename "$f")" ] || mv "$f" "$OUT/$n"; done
date -u
