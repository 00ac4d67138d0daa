#!/usr/bin/env bash
# CPU throughput of the runtime (flexq bench): stories260K in F32 (.bin) and Q8_0 (llama.cpp's GGUF), and a
# random-weight model at Llama 3.2 1B's shape in F32 and Q8_0. Prints the machine, then for each model the exact
# command, the load average before and after, and the bench table; bench/results/cpu-runtime.md is written from this.
# Usage: bench/cpu-runtime.sh [THREADS]   (default: all cores). Needs ~6 GB of free memory for the F32 1B model.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
threads="${1:-$(nproc)}"
shared="$here/../shared/models"
export JAVA_OPTS="${JAVA_OPTS:--Xmx1g}"   # the weights are off-heap: the heap holds activations and the KV cache

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet HEAD -- runtime-adapter || echo ' (modified)')"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores ($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)"
echo "flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
source "$here/bin/find-java"
echo "java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "JAVA_OPTS: $JAVA_OPTS"

run() {
  echo
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: bin/flexq bench $*"
  "$here/bin/flexq" bench "$@"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

run --model "$here/models/stories260K.bin" --threads "$threads" --prompt-tokens 128 --decode-tokens 32 --warmup 20 --runs 20
run --model "$shared/stories260K-q8_0.gguf" --threads "$threads" --prompt-tokens 128 --decode-tokens 32 --warmup 20 --runs 20
run --synthetic llama-3.2-1b --type q8_0 --threads "$threads" --prompt-tokens 128 --decode-tokens 32 --warmup 1 --runs 3
run --synthetic llama-3.2-1b --type f32 --threads "$threads" --prompt-tokens 128 --decode-tokens 32 --warmup 1 --runs 3
