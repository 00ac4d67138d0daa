#!/usr/bin/env bash
# session 14, call J (CPU, the GPU host's Intel Xeon; carry .cpu): is our FQ6 prompt matmul slower than our Q8_0 one on
# this machine at any thread count, or only on 16 threads? (On the 2-core AMD EPYC development machine they are equal.)
# Stage profile (-Dflexq.cpu.profile=true) of the 27M shape, prompt 512, at 1, 2, 4 and 16 threads: FQ6 (b/: 3f517b4 in
# call J, 05e70f5 in call K;
# the machine's best level, AVX512_VBMI: packed weights widened per block pair), FQ6 capped at AVX512_VNNI (byte weights),
# and our Q8_0; the matmul stages and the total, ms per 512-token batch.
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); T0=$(date +%s); lap() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
grep -o 'avx512vbmi\b\|avx512_vnni\|amx_int8' /proc/cpuinfo | sort | uniq -c | tr '\n' ' '; echo
source $G/cpu27m-setup.sh
for t in 1 2 4 16; do
  for v in "FQ6|$FQ6|" "FQ6 AVX512_VNNI|$FQ6|-Dflexq.cpu.nativeLevel=AVX512_VNNI" "Q8_0|$Q8|"; do
    IFS='|' read -r name m opt <<< "$v"
    runs=6; [ $t -ge 4 ] && runs=10
    JOPTS="-Dflexq.cpu.profile=true $opt" fx "$CP_B" bench --model $m --threads $t --prompt-tokens 512 --decode-tokens 1 --warmup 3 --runs $runs 2>&1 \
      | awk -F'|' -v n="t=$t $name" '/^\| r27/ {p=$9} /q, k, v matmuls|gate and up|down matmul|output projection|^\| total/ {gsub(/ +$/, "", $2); s = s sprintf("%s %s; ", $2, $3)} END {print n ": prefill" p " | " s}'
  done
  lap "t=$t"
done
