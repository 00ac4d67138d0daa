#!/usr/bin/env bash
# Device call B of a same-session comparison (after session-start.sh, machine still warm; carry [".gpu"]): ours and
# llama.cpp on the same 8B shape in one session, then the 27M model's KLD on the GPU. Steps of tools/gpu/e2e-bench.sh.
set -o pipefail
cp tools/gpu/e2e-bench.sh .gpu/e2e-bench.sh
STEPS=fq6s VARIANTS="${VARIANTS:-default}" bash .gpu/e2e-bench.sh 2>&1 | grep "^|"
for i in $(seq 1 60); do [ -f /tmp/e2e/m-f16.gguf ] && break; sleep 5; done; tail -1 /tmp/synth.log
STEPS=f16 BATCHES=1,8 bash .gpu/e2e-bench.sh 2>&1 | grep "^|"
tail -1 /tmp/llama-build.log
STEPS=llama bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| llama|build"
STEPS=junit JUNIT_CLASSES="Ref27MGpuTest" JUNIT_TAG=-ref27m bash .gpu/e2e-bench.sh 2>&1 | grep -E "tests (succ|fail)|KLD|✘" | head
STEPS=fq6s VARIANTS="act_preset=a6 act_preset=paper" BATCHES=1 bash .gpu/e2e-bench.sh 2>&1 | grep "^|"
for f in "$OUT"/*; do n=$(basename "$f" | tr '=,' '__'); [ "$n" = "$(basename "$f")" ] || mv "$f" "$OUT/$n"; done
