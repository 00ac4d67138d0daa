#!/usr/bin/env bash
# Decode tok/s of two settings of one JVM property, A/B, and optionally llama-bench, in alternating rounds (the order
# flips every round), one JVM per measurement. Prints every measurement with the load average, then the median
# per-round ratios. Default: one-token matmuls on the fork-join pool against the spinning team
# (--vary flexq.cpu.pool=forkjoin,spin); --vary flexq.cpu.nativeLevel=AVX512_VNNI,AVX512_VBMI compares the byte and the
# packed 6-bit FQ6 layouts.
#
# usage: bench/scripts/decode-pool-ab.sh [--vary KEY=A,B] [--rounds N] [--threads "1 2"] [--decode N] [--prompt N]
#            [--llama-bench PATH --llama-model FILE] LABEL=MODEL ...
# Our program: FLEXQ_JAVA and FLEXQ_CP (runtime-adapter + flexq-plugin classes and picocli), else bin/flexq's jars.
# Ours: flexq bench --threads T --prompt-tokens P --decode-tokens D --warmup 1 --runs 3 (median of the 3 runs).
# llama.cpp: llama-bench -t T -p 0 -n D -d P -r 3 -ngl 0 (tg D after P positions, as ours follows a P-token prompt;
# --llama-depth N sets another depth, 0 = from an empty context).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
rounds=5; threads="1 2"; decode=128; prompt=16; llama=""; lmodel=""; models=(); vary="flexq.cpu.pool=forkjoin,spin"; depth=""
while [ $# -gt 0 ]; do
  case "$1" in
    --vary) vary="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --llama-bench) llama="$2"; shift 2 ;;
    --llama-model) lmodel="$2"; shift 2 ;;
    --llama-depth) depth="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *=*) models+=("$1"); shift ;;
    *) echo "decode-pool-ab: expected LABEL=MODEL or a flag, got '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$depth" ] || depth="$prompt"
[ ${#models[@]} -gt 0 ] || { echo "decode-pool-ab: give at least one LABEL=MODEL" >&2; exit 2; }
key="${vary%%=*}"; values="${vary#*=}"; a="${values%%,*}"; b="${values#*,}"
[ -n "$key" ] && [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$values" ] || { echo "decode-pool-ab: --vary needs KEY=A,B, got '$vary'" >&2; exit 2; }
if [ -n "${FLEXQ_CP:-}" ]; then
  java=("${FLEXQ_JAVA:-java}" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$FLEXQ_CP")
else
  source "$here/bin/find-java"; "$here/bin/flexq" --help >/dev/null 2>&1 || true
  java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$here/dist/lib/*")
fi
load() { cut -d' ' -f1 /proc/loadavg; }

ours() { # setting threads model -> decode tok/s (median of 3 runs)
  "${java[@]}" -D"$key"="$1" io.flexq.runtime.cli.Main bench --model "$3" --threads "$2" \
      --prompt-tokens "$prompt" --decode-tokens "$decode" --warmup 1 --runs 3 2>/dev/null \
    | awk -F'|' '/^\| .*\| [0-9]+ \| [0-9]+ \|/ {print $10}' | awk '{print $1}' | tr -d ','
}
theirs() { # threads -> tg tok/s (mean of 3 repetitions)
  "$llama" -m "$lmodel" -t "$1" -p 0 -n "$decode" -d "$depth" -r 3 -ngl 0 -o csv 2>/dev/null \
    | awk -F',' 'NR==1 {for (i = 1; i <= NF; i++) if ($i ~ /avg_ts/) c = i; next} {gsub(/"/, "", $c); print $c}' | tail -1
}

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), host $(hostname), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
echo "rounds $rounds, threads $threads, prompt $prompt, decode $decode, -D$key = $a / $b${llama:+, llama.cpp at depth $depth}"
results=$(mktemp)
for t in $threads; do
  for r in $(seq 1 "$rounds"); do
    order=("$a" "$b"); [ $((r % 2)) = 0 ] && order=("$b" "$a")
    for m in "${models[@]}"; do
      for p in "${order[@]}"; do
        l0=$(load); v=$(ours "$p" "$t" "${m#*=}"); l1=$(load)
        echo "t=$t round $r ${m%%=*} $p decode $v tok/s (load $l0 -> $l1)"
        echo "$t $r ${m%%=*} $p $v" >> "$results"
      done
    done
    if [ -n "$llama" ]; then
      l0=$(load); v=$(theirs "$t"); l1=$(load)
      echo "t=$t round $r llama.cpp $(basename "$lmodel") decode $v tok/s (load $l0 -> $l1)"
      echo "$t $r llama.cpp llama $v" >> "$results"
    fi
  done
done
echo
python3 - "$results" "$a" "$b" <<'PY'
import sys, statistics as st
A, B = sys.argv[2], sys.argv[3]
rows = [l.split() for l in open(sys.argv[1])]
v = {(int(t), int(r), lab, p): float(x) for t, r, lab, p, x in rows if x}
labels = sorted({k[2] for k in v if k[2] != 'llama.cpp'})
print(f"| threads | model | {B} / {A} (median of rounds) | {B} median tok/s | {A} median tok/s | {B} / llama.cpp | {A} / llama.cpp | llama.cpp median tok/s |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for t in sorted({k[0] for k in v}):
    rs = sorted({k[1] for k in v if k[0] == t})
    ll = [v[(t, r, 'llama.cpp', 'llama')] for r in rs if (t, r, 'llama.cpp', 'llama') in v]
    for lab in labels:
        per = lambda x: [v[(t, r, lab, x)] for r in rs if (t, r, lab, x) in v]
        ratio = lambda x, y, yl=lab: [v[(t, r, lab, x)] / v[(t, r, yl, y)] for r in rs if (t, r, lab, x) in v and (t, r, yl, y) in v]
        m = lambda arr, f="%.2f": f % st.median(arr) if arr else "-"
        print(f"| {t} | {lab} | {m(ratio(B, A))} | {m(per(B), '%.0f')} | {m(per(A), '%.0f')} | {m(ratio(B, 'llama', 'llama.cpp'))} | {m(ratio(A, 'llama', 'llama.cpp'))} | {m(ll, '%.0f')} |")
PY
rm -f "$results"
