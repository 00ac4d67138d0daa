#!/usr/bin/env bash
# Decode tok/s of FQ6 with the native kernels at two levels (default: the packed 6-bit layout of AVX-512 VBMI against the
# byte layout of AVX-512 VNNI, -Dflexq.cpu.nativeLevel) and llama.cpp's llama-bench, in alternating rounds (the order
# flips every round), one process per measurement, each line with the load average.
#   usage: bench/scripts/decode-level-ab.sh FQ6_MODEL LLAMA_BENCH LLAMA_MODEL
#   env: R (rounds, 5), THREADS ("1 2"), LEVELS ("AVX512_VBMI AVX512_VNNI"), PROMPT (16), DECODE (128)
# Ours: flexq bench --threads T --prompt-tokens PROMPT --decode-tokens DECODE --warmup 1 --runs 3 (median of 3), from the
# module classes (build first: mvn -pl flexq-plugin -am test-compile). llama.cpp: llama-bench -t T -p 0 -n DECODE -r 3.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/bin/find-java"
M="$1"; LB="$2"; L="$3"
R=${R:-5}; LEVELS=${LEVELS:-"AVX512_VBMI AVX512_VNNI"}; PROMPT=${PROMPT:-16}; DECODE=${DECODE:-128}
P=$(ls ~/.m2/repository/info/picocli/picocli/*/picocli-*.jar | grep -v sources | tail -1)
CP="$here/runtime-adapter/target/classes:$here/flexq-plugin/target/classes:$P"
ours() { "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dflexq.cpu.nativeLevel="$1" -cp "$CP" \
    io.flexq.runtime.cli.Main bench --model "$M" --threads "$2" --prompt-tokens "$PROMPT" --decode-tokens "$DECODE" --warmup 1 --runs 3 2>/dev/null \
    | awk -F'|' '/^\| .*\| [0-9]+ \| [0-9]+ \|/ {print $10}' | awk '{print $1}' | tr -d ','; }
theirs() { "$LB" -m "$L" -t "$1" -p 0 -n "$DECODE" -r 3 -ngl 0 -o csv 2>/dev/null \
    | awk -F',' 'NR==1 {for (i = 1; i <= NF; i++) if ($i ~ /avg_ts/) c = i; next} {gsub(/"/, "", $c); print $c}' | tail -1; }
echo "date $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
for T in ${THREADS:-1 2}; do
  for r in $(seq 1 "$R"); do
    o="$LEVELS llama"; [ $((r % 2)) = 0 ] && o="llama $(echo $LEVELS | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')"
    for x in $o; do
      l=$(cut -d' ' -f1 /proc/loadavg)
      if [ "$x" = llama ]; then v=$(theirs "$T"); else v=$(ours "$x" "$T"); fi
      echo "t=$T round $r $x $v load $l"
    done
  done
done
