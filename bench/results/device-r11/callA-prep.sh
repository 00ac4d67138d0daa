#!/usr/bin/env bash
# session 11, call A (carry .gpu): copies the CPU bundle to /tmp/gpu (kept while the machine stays warm) and starts, in
# the background at nice 19, what issue 13's 16-core table needs: llama.cpp CPU-only build (/tmp/lb-cpu), random-weight
# 27M, synthetic 1B and 8B F16 GGUFs, llama-quantize Q8_0 and flexq quantize FQ6 of each. cpu-vs-llamacpp.sh with
# BUDGET=1 does exactly that and runs no round. Later calls (Jlama rows) run while it works; call D runs the rounds.
set -u
rm -rf /tmp/gpu && cp -r .gpu /tmp/gpu && cp bench/compare-llama-cpp.sh tools/gpu/cpu-vs-llamacpp.sh /tmp/gpu/
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u; nproc; free -g | head -2
setsid nice -n 19 env OUT=/tmp/prep-out SHAPES="ref-27m llama-3.2-1b llama-3.1-8b" BUDGET=1 KERNELS=0 \
  bash /tmp/gpu/cpu-vs-llamacpp.sh > /tmp/prep.log 2>&1 < /dev/null &
sleep 5; cat /tmp/prep.log
