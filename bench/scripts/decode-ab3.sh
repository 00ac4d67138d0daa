#!/usr/bin/env bash
# Decode of one file by two builds of ours (A = the change, B = the build before it) and llama-bench, in rounds whose
# order rotates (A B L, B L A, L A B, ...), so that a load drift hits each program alike; per round the three tok/s, the
# load, and the ratios A/L, B/L, A/B; at the end their medians and ranges. Same protocol as compare-llama-cpp.sh's
# decode column (ours: WARMUP untimed passes then one timed one in one JVM; llama-bench: its warm-up, -r 1, decode
# at depth PROMPT after the prompt).
#
# usage: bench/scripts/decode-ab3.sh --llama-bench PATH --cp-a CLASSPATH --cp-b CLASSPATH --file GGUF
#          [--llama-file GGUF] [--threads 2] [--rounds 5] [--prompt 16] [--decode 32] [--warmup 4]
# --llama-file: llama-bench reads this file instead of --file (ours FQ6 against llama.cpp's Q8_0 of the same weights)
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
llama=""; cpa=""; cpb=""; file=""; lfile=""; threads=2; rounds=5; prompt=16; decode=32; warmup=4
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) llama="$2"; shift 2 ;;
    --cp-a) cpa="$2"; shift 2 ;;
    --cp-b) cpb="$2"; shift 2 ;;
    --file) file="$2"; shift 2 ;;
    --llama-file) lfile="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "decode-ab3: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$llama" ] && [ -n "$cpa" ] && [ -n "$cpb" ] && [ -f "$file" ] || { sed -n '2,12p' "$0"; exit 2; }
[ -n "$lfile" ] || lfile="$file"
source "$here/bin/find-java"

ours() { # CLASSPATH -> decode tok/s
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp "$1" \
      io.flexq.runtime.cli.Main bench --model "$file" --threads "$threads" --prompt-tokens "$prompt" \
      --decode-tokens "$decode" --warmup "$warmup" --runs 1 2>/dev/null \
    | awk -F'|' '/^\| / && $10 ~ /[0-9]/ {split($10, b, " "); print b[1]}' | tail -1
}
lc() {
  "$llama" -m "$lfile" -t "$threads" -p 0 -n "$decode" -d "$prompt" -r 1 -o csv 2>/dev/null \
    | python3 -c 'import csv, sys; print([r["avg_ts"] for r in csv.DictReader(sys.stdin)][0])'
}

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), file: $file, threads $threads, prompt $prompt, decode $decode, our warm-up passes $warmup"
echo "A: $cpa"
echo "B: $cpb"
echo "llama-bench: $llama -m $lfile -t $threads -p 0 -n $decode -d $prompt -r 1"
lines=""
for r in $(seq "$rounds"); do
  l0="$(cut -d' ' -f1 /proc/loadavg)"; t0=$(date +%s)
  declare -A v=()
  case $((r % 3)) in
    1) order="A B L" ;;
    2) order="B L A" ;;
    0) order="L A B" ;;
  esac
  for p in $order; do
    case $p in
      A) v[A]="$(ours "$cpa")" ;;
      B) v[B]="$(ours "$cpb")" ;;
      L) v[L]="$(lc)" ;;
    esac
  done
  line="$(python3 -c 'import sys; a, b, l = map(float, sys.argv[1:4]); print("%.2f %.2f %.2f %.3f %.3f %.3f" % (a, b, l, a / l, b / l, a / b))' "${v[A]}" "${v[B]}" "${v[L]}")"
  echo "round $r ($order, load $l0 -> $(cut -d' ' -f1 /proc/loadavg), $(( $(date +%s) - t0 )) s): A B llama tok/s, A/L B/L A/B: $line"
  lines+="$line"$'\n'
  unset v
done
printf '%s' "$lines" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
names = ["A tok/s", "B tok/s", "llama tok/s", "A/llama", "B/llama", "A/B"]
for i, n in enumerate(names):
    c = [r[i] for r in rows]
    print("median %s: %.3f (range %.3f-%.3f, %d rounds)" % (n, statistics.median(c), min(c), max(c), len(c)))'
