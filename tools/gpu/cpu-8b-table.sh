#!/usr/bin/env bash
# Issue 13's CPU table on the GPU host's 16 cores in under 4 minutes: ours vs llama-bench -t 16 -ngl 0 on the synthetic
# Llama-3.1-8B-shaped GGUF, FQ6 W6A8 (ours) vs Q8_0 (llama.cpp), and F16 on the same file; prompt 32, decode 16 after
# it (llama.cpp at depth 32), 3 alternating rounds per pair, median of per-round ratios. From the bundle (no Java or
# Maven on the host): tools/gpu/bundle.sh here, then a device run with carry [".gpu"]:
#   bash .gpu/cpu-8b-table.sh                    # writes $OUT/cpu-vs-llamacpp.txt
# Fast only on a warm machine where tools/gpu/e2e-bench.sh has run: it reuses its llama.cpp build (/tmp/lb) and its
# /tmp/e2e/m-f16.gguf, m-Q8_0.gguf, m-fq6.gguf. Otherwise cpu-vs-llamacpp.sh makes what is missing first (llama.cpp
# CPU-only build, synth_gguf.py F16, llama-quantize Q8_0, flexq quantize FQ6: several minutes), inside BUDGET, so fewer
# rounds (or none) then fit: give BUDGET=600 on a fresh machine.
# Knobs: OURS_THREADS (default 16, as llama.cpp; 15 leaves one core to the OS, as the issue's first table did),
# ROUNDS (3), BUDGET (225 s for the whole call: no round starts that would end after it), PAIRS ("fq6 f16"; q8 adds
# Q8_0 on both sides), WARMUP (our warm-up passes, 1: see the protocol in bench/results/cpu-vs-llamacpp.md).
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd)
export SHAPES=llama-3.1-8b PROMPT_8B=32 DECODE_8B=16 KERNELS=0
export ROUNDS_8B=${ROUNDS:-3} PAIRS_8B=${PAIRS:-"fq6 f16"} WARMUP_8B=${WARMUP:-1} BUDGET=${BUDGET:-225}
export THREADS=${THREADS:-16} OURS_THREADS=${OURS_THREADS:-${THREADS:-16}}
exec bash "$G/cpu-vs-llamacpp.sh"
