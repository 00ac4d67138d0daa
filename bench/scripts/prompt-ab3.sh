#!/usr/bin/env bash
# Prefill and decode of one file by two builds of ours (A = the change, B = the build before it), optionally A again with
# extra JVM options (C, e.g. -Dflexq.cpu.bf16Prefill=f32), and llama-bench, in rounds whose order rotates (A B L, B L A,
# L A B, ... with C after A), so that a load drift hits each program alike; per round the tok/s, the load, and the
# ratios to llama.cpp and A/B; at the end their medians and ranges. Same protocol as compare-llama-cpp.sh (ours: WARMUP
# untimed passes then one timed pass of PROMPT tokens and DECODE decoded ones, in one JVM; llama-bench: its warm-up,
# -r 1, the prompt from an empty context, then the decode at depth PROMPT).
#
# usage: bench/scripts/prompt-ab3.sh --llama-bench PATH --cp-a CLASSPATH --cp-b CLASSPATH --file GGUF
#          [--opts-c "JVM OPTIONS"] [--threads 2] [--rounds 5] [--prompt 512] [--decode 64] [--warmup 4]
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
llama=""; cpa=""; cpb=""; optsc=""; file=""; threads=2; rounds=5; prompt=512; decode=64; warmup=4
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) llama="$2"; shift 2 ;;
    --cp-a) cpa="$2"; shift 2 ;;
    --cp-b) cpb="$2"; shift 2 ;;
    --opts-c) optsc="$2"; shift 2 ;;
    --file) file="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "prompt-ab3: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$llama" ] && [ -n "$cpa" ] && [ -n "$cpb" ] && [ -f "$file" ] || { sed -n '2,10p' "$0"; exit 2; }
source "$here/bin/find-java"

ours() { # CLASSPATH [JVM OPTIONS] -> "prefill decode" tok/s
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g ${2:-} -cp "$1" \
      io.flexq.runtime.cli.Main bench --model "$file" --threads "$threads" --prompt-tokens "$prompt" \
      --decode-tokens "$decode" --warmup "$warmup" --runs 1 2>/dev/null \
    | awk -F'|' '/^\| / && $9 ~ /[0-9]/ {split($9, a, " "); split($10, b, " "); print a[1], b[1]}' | tail -1
}
lc() { # -> "prefill decode" tok/s
  { "$llama" -m "$file" -t "$threads" -p "$prompt" -n 0 -r 1 -o csv 2>/dev/null
    "$llama" -m "$file" -t "$threads" -p 0 -n "$decode" -d "$prompt" -r 1 -o csv 2>/dev/null | tail -n +2
  } | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
pp = [r["avg_ts"] for r in rows if int(r["n_prompt"]) > 0 and int(r["n_gen"]) == 0]
tg = [r["avg_ts"] for r in rows if int(r["n_gen"]) > 0 and int(r["n_prompt"]) == 0]
print(pp[0] if pp else "nan", tg[0] if tg else "nan")'
}

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), file: $file, threads $threads, prompt $prompt, decode $decode, our warm-up passes $warmup"
echo "A: $cpa"
echo "B: $cpb"
[ -z "$optsc" ] || echo "C: A with $optsc"
echo "llama-bench: $llama -m $file -t $threads -p $prompt -n 0 -r 1; then -p 0 -n $decode -d $prompt -r 1"
lines=""
for r in $(seq "$rounds"); do
  l0="$(cut -d' ' -f1 /proc/loadavg)"; t0=$(date +%s)
  declare -A v=()
  case $((r % 3)) in
    1) order="A B L" ;;
    2) order="B L A" ;;
    0) order="L A B" ;;
  esac
  [ -z "$optsc" ] || order="${order/A/A C}"
  for p in $order; do
    case $p in
      A) v[A]="$(ours "$cpa")" ;;
      B) v[B]="$(ours "$cpb")" ;;
      C) v[C]="$(ours "$cpa" "$optsc")" ;;
      L) v[L]="$(lc)" ;;
    esac
  done
  line="$(python3 -c '
import sys
a, b, c, l = (list(map(float, s.split())) if s else [float("nan")] * 2 for s in sys.argv[1:5])
out = []
for i in (0, 1):  # prefill, decode
    out += [a[i], b[i], c[i], l[i], a[i] / l[i], b[i] / l[i], c[i] / l[i], a[i] / b[i]]
print(" ".join("%.3f" % x if k % 8 >= 4 else "%.1f" % x for k, x in enumerate(out)))' "${v[A]}" "${v[B]}" "${v[C]:-}" "${v[L]}")"
  echo "round $r ($order, load $l0 -> $(cut -d' ' -f1 /proc/loadavg), $(( $(date +%s) - t0 )) s): prefill A B C L A/L B/L C/L A/B, decode the same: $line"
  lines+="$line"$'\n'
  unset v
done
printf '%s' "$lines" | python3 -c '
import math, statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
names = ["A", "B", "C", "llama", "A/llama", "B/llama", "C/llama", "A/B"]
for part, off in (("prefill", 0), ("decode", 8)):
    for i, n in enumerate(names):
        c = [r[off + i] for r in rows if not math.isnan(r[off + i])]
        if c:
            print("median %s %s: %.3f (range %.3f-%.3f, %d rounds)" % (part, n, statistics.median(c), min(c), max(c), len(c)))'
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
