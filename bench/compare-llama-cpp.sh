#!/usr/bin/env bash
# Ours vs llama.cpp on the CPU, same files, same thread count, alternating rounds (A/B, then B/A, ...), and the
# median of the per-round ratios (ours / llama.cpp): robust to a machine whose load drifts during the run.
# Optionally first the read bandwidth of the machine and each decode kernel as a fraction of it (--kernels).
#
# usage: bench/compare-llama-cpp.sh --llama-bench PATH [flags] LABEL=OURS_FILE,LLAMA_FILE ...
#   --llama-bench PATH   llama-bench built without a GPU backend, or with one and --llama-args "-ngl 0 -dev none"
#   --threads N          threads for both programs (default: every core, nproc)
#   --ours-threads N     our threads only, when they should differ (e.g. 15 of 16 cores, one left to the OS)
#   --rounds N           alternating rounds per pair (default 5)
#   --prompt N           prefill tokens (default 512)
#   --decode N           decode tokens (default 64)
#   --llama-args "..."   extra llama-bench arguments (default "-ngl 0")
#   --ours-warmup N      our untimed passes (prompt + decode) before the timed one, in the same JVM (default 4, or as
#                        many as decode 256 tokens in all when --decode is under 64: the rate a long-lived
#                        `flexq serve`/`chat` JVM reaches after its first requests, when the JIT has compiled the decode
#                        path; 1 = a JVM still compiling, as a first request sees it; see
#                        bench/results/cpu-vs-llamacpp.md, "the warm-up protocol"). llama-bench keeps its own 1.
#   --llama-depth N      context depth of llama.cpp's decode test (llama-bench -d; default: the prompt length, so that
#                        both decode the same positions, after the prompt; 0 = from an empty context; needs -d)
#   --deadline EPOCH     start no round (and no pair) that would end after this time (date +%s), judged by the
#                        longest round so far; the medians then cover the rounds that ran
#   --kernels            also run the decode-kernel bandwidth table (DecodeBandwidth; about 1 minute)
#   --kernel-args "..."  its arguments (default "--rows 4096 --cols 4096 --ring-mb 512 --seconds 2")
# A pair compares our run of OURS_FILE with llama-bench on LLAMA_FILE (the same file where both read it, e.g. F16 or
# Q8_0; our FQ6 file against llama.cpp's Q8_0 of the same weights). Our program: bin/flexq, or, from a bundle without
# Maven, FLEXQ_JAVA (a java 25 with jdk.incubator.vector) and FLEXQ_CP (runtime-adapter and flexq-plugin classes/jars).
# FLEXQ_JAVA_OPTS: extra JVM options for ours, e.g. -Dflexq.cpu.native=false (the Vector API kernels only).
# Output: the machine, then per pair and round the four tok/s and ratios, then a Markdown table of medians.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

llama=""; threads="$(nproc)"; rounds=5; prompt=512; decode=64; largs="-ngl 0"; kernels=0
kargs="--rows 4096 --cols 4096 --ring-mb 512 --seconds 2"
llama_depth=""; deadline=""; ours_warmup=""; ours_threads=""
pairs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) llama="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --ours-threads) ours_threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    --llama-args) largs="$2"; shift 2 ;;
    --llama-depth) llama_depth="$2"; shift 2 ;;
    --ours-warmup) ours_warmup="$2"; shift 2 ;;
    --deadline) deadline="$2"; shift 2 ;;
    --kernels) kernels=1; shift ;;
    --kernel-args) kargs="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*) echo "compare-llama-cpp: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *=*,*) pairs+=("$1"); shift ;;
    *) echo "compare-llama-cpp: expected LABEL=OURS_FILE,LLAMA_FILE, got '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$llama_depth" ] || llama_depth="$prompt"
[ -n "$ours_threads" ] || ours_threads="$threads"
[ -n "$llama" ] && [ -x "$llama" ] || { echo "compare-llama-cpp: --llama-bench PATH (an executable llama-bench) is required" >&2; exit 2; }
[ ${#pairs[@]} -gt 0 ] || [ "$kernels" = 1 ] || { echo "compare-llama-cpp: give at least one LABEL=OURS_FILE,LLAMA_FILE pair" >&2; exit 2; }
for p in "${pairs[@]}"; do
  files="${p#*=}"
  for f in "${files%%,*}" "${files#*,}"; do
    [ -f "$f" ] || { echo "compare-llama-cpp: no such file: $f (in pair $p)" >&2; exit 2; }
  done
done

if [ -n "${FLEXQ_CP:-}" ]; then
  java="${FLEXQ_JAVA:-java}"
  ours_cmd=("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g ${FLEXQ_JAVA_OPTS:-} -cp "$FLEXQ_CP")
else
  source "$here/bin/find-java"
  "$here/bin/flexq" --help >/dev/null 2>&1 || true   # builds the jars on first use
  ours_cmd=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g ${FLEXQ_JAVA_OPTS:-} -cp "$here/dist/lib/*")
fi

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "java: $("${ours_cmd[0]}" -version 2>&1 | head -1)${FLEXQ_JAVA_OPTS:+, options: $FLEXQ_JAVA_OPTS}"
echo "llama-bench: $llama"
# default warm-up: 4 passes, and at least 256 decoded tokens in all (the JIT compiles the decode path after about that
# many steps: after 4 passes of 32 tokens the timed pass ran before its optimizing compiles, 0.7-0.95k tok/s on the 27M
# model against 1.7-1.8k after 8; bench/results/cpu-vs-llamacpp.md, session 14)
if [ -z "$ours_warmup" ]; then
  ours_warmup=4
  [ "$decode" -gt 0 ] && [ $(( 4 * decode )) -lt 256 ] && ours_warmup=$(( (256 + decode - 1) / decode ))
fi
echo "threads: $threads (ours: $ours_threads), rounds: $rounds, prompt: $prompt, decode: $decode, llama-bench args: $largs, llama.cpp decode at depth $llama_depth, our warm-up passes: $ours_warmup"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$kernels" = 1 ]; then
  echo
  echo "## decode kernels vs read bandwidth (command: DecodeBandwidth --threads $threads $kargs)"
  # shellcheck disable=SC2086
  "${ours_cmd[@]}" io.flexq.plugin.cpu.bench.DecodeBandwidth --threads "$threads" $kargs 2>/dev/null
  echo "load after the kernels: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

# ours FILE -> "prefill decode" tok/s (ours_warmup warm-up passes, one measured pass, in one JVM)
ours() {
  "${ours_cmd[@]}" io.flexq.runtime.cli.Main bench --model "$1" --threads "$ours_threads" --prompt-tokens "$prompt" \
      --decode-tokens "$decode" --warmup "$ours_warmup" --runs 1 2>/dev/null \
    | awk -F'|' '/^\| / && $9 ~ /[0-9]/ {split($9, a, " "); split($10, b, " "); print a[1], b[1]}' | tail -1
}
# llama FILE -> "prefill decode" tok/s (llama-bench's own warm-up, one repetition). Two runs: the prompt from an empty
# context, then the decode test at depth llama_depth (-d fills the context first, untimed), as ours decodes after its
# prompt; with -d 0 the decode test starts from an empty context.
llamac() {
  { # shellcheck disable=SC2086
    "$llama" -m "$1" -t "$threads" -p "$prompt" -n 0 -r 1 -o csv $largs 2>/dev/null
    # shellcheck disable=SC2086
    "$llama" -m "$1" -t "$threads" -p 0 -n "$decode" -d "$llama_depth" -r 1 -o csv $largs 2>/dev/null | tail -n +2
  } | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
pp = [float(r["avg_ts"]) for r in rows if int(r["n_prompt"]) > 0 and int(r["n_gen"]) == 0]
tg = [float(r["avg_ts"]) for r in rows if int(r["n_gen"]) > 0 and int(r["n_prompt"]) == 0]
print(pp[0] if pp else "nan", tg[0] if tg else "nan")'
}

# true when a round of the longest length seen so far would end after --deadline
past_deadline() {
  [ -n "$deadline" ] && [ $(( $(date +%s) + longest )) -gt "$deadline" ]
}
longest=0

summary=()
for p in "${pairs[@]}"; do
  label="${p%%=*}"; files="${p#*=}"; of="${files%%,*}"; lf="${files#*,}"
  echo
  echo "## $label: ours $of vs llama.cpp $lf"
  echo "commands: ${ours_cmd[*]} io.flexq.runtime.cli.Main bench --model $of --threads $ours_threads --prompt-tokens $prompt --decode-tokens $decode --warmup $ours_warmup --runs 1"
  echo "          $llama -m $lf -t $threads -p $prompt -n 0 -r 1 -o csv $largs; then -p 0 -n $decode -d $llama_depth"
  ratios=""
  for r in $(seq "$rounds"); do
    if past_deadline; then
      echo "round $r and later: not run (--deadline $deadline: a round has taken up to $longest s)"; break
    fi
    t0=$(date +%s)
    if [ $((r % 2)) = 1 ]; then o="$(ours "$of")"; l="$(llamac "$lf")"; order="ours first"
    else l="$(llamac "$lf")"; o="$(ours "$of")"; order="llama.cpp first"; fi
    line="$(python3 -c '
import sys
op, od, lp, ld = (float(v) for v in sys.argv[1:5])
print("%.1f %.1f %.1f %.1f %.3f %.3f" % (op, od, lp, ld, op / lp, od / ld))' $o $l)"
    echo "round $r ($order, load $(cut -d' ' -f1 /proc/loadavg), $(( $(date +%s) - t0 )) s): ours prefill/decode, llama.cpp prefill/decode, ratios: $line"
    ratios+="$line"$'\n'
    if [ $(( $(date +%s) - t0 )) -gt "$longest" ]; then longest=$(( $(date +%s) - t0 )); fi
  done
  [ -n "$ratios" ] || continue
  summary+=("$(printf '%s' "$ratios" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
med = lambda i: statistics.median(r[i] for r in rows)
print("| %s | %d | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f |" % (sys.argv[1], len(rows), med(0), med(2), med(4), med(1), med(3), med(5)))' "$label")")
done

if [ ${#summary[@]} -gt 0 ]; then
  echo
  echo "## medians ($threads threads, prefill $prompt, decode $decode after the prompt (llama.cpp: -d $llama_depth); ratio = median of per-round ours / llama.cpp)"
  echo
  echo "| pair | rounds | ours prefill tok/s | llama.cpp prefill tok/s | prefill ratio | ours decode tok/s | llama.cpp decode tok/s | decode ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${summary[@]}"
fi
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
