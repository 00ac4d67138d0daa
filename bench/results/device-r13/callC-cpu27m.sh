#!/usr/bin/env bash
# session 13, call C (CPU, GPU host's 16 cores; cut to fit the device time left): 27M prefill-512 after the session's CPU changes.
#  1. the committed comparison: compare-llama-cpp.sh, B (this session's code), FQ6 vs llama.cpp Q8_0, 3 rounds, prompt 512, decode 32
#  2. stage profile of B at 16 threads if time is left
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); OUT=${OUT:-/tmp/out}; mkdir -p $OUT
T0=$(date +%s); lap() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(lscpu | grep -E '^Thread|^Core' | tr -s ' ' | tr '\n' ';')"
source $G/cpu27m-setup.sh   # tools/gpu/cpu27m-setup.sh (these lines were inline when the call ran)
FLEXQ_JAVA=$J FLEXQ_CP="$CP_B" FLEXQ_JAVA_OPTS="-Xmx16g" timeout 150 bash $G/compare-llama-cpp.sh --llama-bench $LB/llama-bench \
  --llama-args "-ngl 0" --threads 16 --ours-warmup 4 --rounds 3 --prompt 512 --decode 32 --deadline $(( T0 + ${BUDGET:-190} - 20 )) \
  "FQ6 W6A8 vs Q8_0, ref-27m=$FQ6,$Q8" 2>&1 | tail -12
lap "comparison"
[ $(( $(date +%s) - T0 )) -lt ${BUDGET:-190} ] && JOPTS="-Dflexq.cpu.profile=true" fx "$CP_B" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 10 2>&1 | grep -E "^\| [^m]|team jobs"
lap "profile"
