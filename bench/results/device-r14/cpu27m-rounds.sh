#!/usr/bin/env bash
# Session 14, calls A, G and I (CPU, the GPU host's 16 cores): 27M prefill-512 on 16 threads, from .cpu/ (a/ and b/ two
# builds; tools/gpu/cpu27m-setup.sh makes llama.cpp and the files). The set-up lines, and the variant labels below, were
# inline in two scripts (callA-cpu27m.sh, callI-cpu27m-tokens.sh) when the calls ran; the commands are the same.
#  1. alternating rounds until ROUNDS_UNTIL s (at most 8): A, B (and B with 1 ms of spinning, -Dflexq.cpu.spinMicros=1000,
#     if SPIN=1), each `bench --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 6 --runs 20` (median [min,
#     max] prefill tok/s of 20 prompts), and llama-bench pp512 -r 5 on llama.cpp's Q8_0 of the same weights; the order
#     reverses every round
#  2. the committed comparison: compare-llama-cpp.sh with B, FQ6 vs Q8_0, prompt 512, decode 32, 6 rounds
#  3. B's stage profile and team counts, FQ6 and our Q8_0
# Call A: a = main 31740fc, b = 5cc9160, LABEL_A="A main" LABEL_B=B SPIN=1 (defaults), ROUNDS_UNTIL=200 BUDGET=330.
# Call G (second lease): as A with ROUNDS_UNTIL=0 BUDGET=300 (the comparison and the profiles only).
# Call I: a = 5cc9160, b = 3f517b4 (token ranges), LABEL_A="A 5cc9160" LABEL_B="B 3f517b4" SPIN=0 ROUNDS_UNTIL=200 BUDGET=330.
# Call K: a = 3f517b4, b = 05e70f5 (the FQ6 tiles without register copies), LABEL_A="A 3f517b4" LABEL_B="B 05e70f5" SPIN=0
# ROUNDS_UNTIL=150 BUDGET=230, then callJ-cpu-threads.sh on the same machine.
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); T0=$(date +%s); lap() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
source $G/cpu27m-setup.sh
pre() { awk -F'|' -v n="$1" '/^\| r27/ {print n, "prefill", $9}'; }
b20() { fx "$@" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 6 --runs 20 2>/dev/null; }
variants="A B"; [ "${SPIN:-1}" = 1 ] && variants="A B Bspin"
for r in 1 2 3 4 5 6 7 8; do
  [ $(( $(date +%s) - T0 )) -lt ${ROUNDS_UNTIL:-200} ] || break
  order="$variants L"; [ $((r % 2)) = 0 ] && order=$(echo $order | tr ' ' '\n' | tac | tr '\n' ' ')
  for v in $order; do
    case $v in
      A) b20 "$CP_A" | pre "round $r ${LABEL_A:-A main}" ;;
      B) b20 "$CP_B" | pre "round $r ${LABEL_B:-B}" ;;
      Bspin) JOPTS="-Dflexq.cpu.spinMicros=1000" b20 "$CP_B" | pre "round $r ${LABEL_B:-B} spin 1 ms" ;;
      L) echo "round $r llama.cpp Q8_0 $($LB/llama-bench -m $Q8 -t 16 -p 512 -n 0 -r 5 2>/dev/null | grep pp512 | awk -F'|' '{print $(NF-1)}')" ;;
    esac
  done
  echo "  load $(cut -d' ' -f1-3 /proc/loadavg)"
done
lap "rounds"
FLEXQ_JAVA=$J FLEXQ_CP="$CP_B" FLEXQ_JAVA_OPTS="-Xmx16g" timeout 120 bash $G/compare-llama-cpp.sh --llama-bench $LB/llama-bench \
  --llama-args "-ngl 0" --threads 16 --ours-warmup 4 --rounds 6 --prompt 512 --decode 32 --deadline $(( T0 + ${BUDGET:-330} - 25 )) \
  "FQ6 W6A8 vs Q8_0, ref-27m=$FQ6,$Q8" 2>&1 | grep -E "^round|^\|"
lap "comparison"
for m in $FQ6 $Q8; do
  [ $(( $(date +%s) - T0 )) -lt ${BUDGET:-330} ] || break
  JOPTS="-Dflexq.cpu.profile=true" fx "$CP_B" bench --model $m --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 10 2>&1 | grep -E "^\| [^m]|team jobs"
done
lap "profile"
