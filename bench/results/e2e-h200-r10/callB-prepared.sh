#!/usr/bin/env bash
# session 10 call B, prepared and NOT run (no machine could be started again) (after the Jlama calls, same lease if warm): the rows call A left out: W6A6 / paper at b8 and b32,
# FP16 at b32, and the Llama-2-70B-shaped FQ6 model on one card. Same bundle as call A (cubin xz'd).
set -o pipefail
G=$(pwd)/.gpu
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s]"; }
xz -dkf $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz && rm $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz
cp models/stories260K.bin $G/shared/models/
mkdir -p /tmp/e2e
if [ ! -f /tmp/e2e/m-f16.gguf ] && [ ! -f /tmp/synth.started ]; then
  touch /tmp/synth.started
  setsid bash -c "python3 $G/anchors/synth_gguf.py llama-3.1-8b /tmp/e2e/m-f16.part > /tmp/synth.log 2>&1 && mv /tmp/e2e/m-f16.part /tmp/e2e/m-f16.gguf" < /dev/null > /dev/null 2>&1 &
fi
cp tools/gpu/e2e-bench.sh $G/e2e-bench.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u
STEPS=70b bash $G/e2e-bench.sh 2>&1 | grep -E "^\||loaded|rror"; el
STEPS=fq6s BATCHES=1,8,32 VARIANTS="act_preset=a6 act_preset=paper default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el
for i in $(seq 1 30); do [ -f /tmp/e2e/m-f16.gguf ] && break; sleep 5; done
STEPS=f16 BATCHES=1,8,32 bash $G/e2e-bench.sh 2>&1 | grep -E "^\||rror"; el
date -u
for f in "$OUT"/*; do n=$(basename "$f" | tr '=,' '__'); [ "$n" = "$(basename "$f")" ] || mv "$f" "$OUT/$n"; done
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
