#!/usr/bin/env bash
# On the GPU host, from the bundles of bench/jlama-gpu-bundle.sh (copied there as .gpu-jlama/run.sh): JlamaBench on the
# 27M model, one JVM per row (128-token prompt, 64 decode steps, best of 3 after a warm-up): Jlama F32 and Jlama Q4
# (Panama), FlexQ W6A8 on flexq-cpu (class path without flexq-cuda), and FlexQ W6A8 on flexq-cuda once per way of
# serving Jlama's row chunks (-Dflexq.cuda.rowRanges: shared = one whole product per call, the default; launch = one
# tile-range launch per chunk; whole = the SPI default, a whole product per chunk). Needs the HF folder in
# $JLAMA_MODEL (default /tmp/jlama-model, put there by the call that carried .gpu-jlama-model). Prints the table and
# writes it, the runs' stderr and the GPU memory samples under $OUT (default /tmp/jlama-gpu-out). Stays under 560 s.
set -uo pipefail
g="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-/tmp/jlama-gpu-out}"; mkdir -p "$out"

# row LABEL CLASSPATH VARIANT DIR [JAVA OPTIONS...]: one JlamaBench JVM, its line relabelled, its routing summary below
row() {
  local label=$1 cp=$2 variant=$3 dir=$4; shift 4
  local left=$((560 - SECONDS))
  if [ "$left" -lt 60 ]; then echo "| $label | skipped: $SECONDS s used of this call's budget |"; return; fi
  [ "$left" -gt 170 ] && left=170
  local err line rc summary
  err=$(mktemp)
  line=$(timeout "$left" "$java" "${opts[@]}" "$@" -cp "$cp" io.flexq.jlama.bench.JlamaBench "$variant" "$dir" 128 64 3 2>"$err")
  rc=$?
  { echo "=== $label ($variant $*): exit $rc"; cat "$err"; } >>"$stderr"
  summary=$(grep -h "^flexq-jlama: [0-9]* FQ6 tensors" "$err" | tail -1)
  if [ $rc -ne 0 ] || [ -z "$line" ]; then
    echo "| $label | FAILED (exit $rc, limit $left s; stderr.txt: $(grep -v '^[[:space:]]*at ' "$err" | tail -1 | cut -c1-160)) |"
    rm -f "$err"; return
  fi
  rm -f "$err"
  case "$label" in *flexq-cuda*) [[ "$summary" == *"[flexq-cuda]"* ]] || label="$label NOT ON THE GPU";; esac
  echo "$line" | sed "s/^| [^|]* |/| $label |/"
  case "$variant" in flexq-*) echo "    $summary";; esac
}

main() {
model="${JLAMA_MODEL:-/tmp/jlama-model}/flexq-ref-27M-f16"
if [ ! -f "$model/model.safetensors" ]; then
  echo "jlama-gpu-run: no HF folder at $model: run the call that carries .gpu-jlama-model first (bench/jlama-gpu-bundle.sh says how)"
  exit 2
fi
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
x=/tmp/jlama-gpu-run; rm -rf "$x/classes"; mkdir -p "$x"
[ -x "$x/jre/bin/java" ] || tar xJf "$g/jre-jlama.tar.xz" -C "$x"
tar xJf "$g/classes.tar.xz" -C "$x"
java="$x/jre/bin/java"
all="$(ls -d "$x"/classes/* | grep -v 'kernels-test$' | tr '\n' ':')$(ls "$g"/lib/*.jar | grep -v console | tr '\n' ':')"
cpu="$(ls -d "$x"/classes/* | grep -v '/kernels' | tr '\n' ':')$(ls "$g"/lib/*.jar | grep -v console | tr '\n' ':')"  # no flexq-cuda service
opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -Djlama.force_panama_tensor_operations=true
      -Dflexq.cuda.cache=/tmp/flexq-cache)
stderr="$out/stderr.txt"; : > "$stderr"
echo "# JlamaBench on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no GPU'), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# $("$java" -version 2>&1 | head -1); model $model; 128 prompt, 64 decode, best of 3"
# the exactness of row ranges on this GPU first (skipped, with the probe's reason, without one) (JLAMA_ROWRANGE_TEST=0 leaves it out when device time is short)
if [ "${JLAMA_ROWRANGE_TEST:-1}" = 1 ]; then
  timeout 150 "$java" "${opts[@]}" -jar "$(ls "$g"/lib/junit-platform-console-standalone-*.jar)" execute -cp "$all$x/classes/kernels-test" \
    --select-class io.flexq.cuda.CudaRowRangeGpuTest --details=tree --disable-banner --disable-ansi-colors > "$out/rowrange-junit.txt" 2>&1
  echo "# CudaRowRangeGpuTest: exit $? ($(grep -E '^\[ +[0-9]+ tests (successful|failed|skipped|aborted)' "$out/rowrange-junit.txt" | tr -s ' ' | tr '\n' ' '))"
  grep -m1 -o 'skipped, no usable GPU[^)]*' "$out/rowrange-junit.txt" | sed 's/^/#   /'
  grep -E 'MethodSource|AssertionFailedError|expected:' "$out/rowrange-junit.txt" | head -6 | sed 's/^/#   /'
else
  echo "# CudaRowRangeGpuTest: not run (JLAMA_ROWRANGE_TEST=0)"
fi
if [ ! -f "$model-JQ4/model.safetensors" ]; then
  "$java" "${opts[@]}" -cp "$cpu" io.flexq.jlama.FixturesMain q4 "$model" >>"$stderr" 2>&1 || echo "# Jlama Q4 folder failed (see stderr.txt)"
fi
gpu=0; nvidia-smi -L >/dev/null 2>&1 && gpu=1

echo "| configuration | Jlama operations | prompt tok/s | decode tok/s | RSS MiB | heap MiB |"
echo "|---|---|---:|---:|---:|---:|"
# JLAMA_CPU_ROWS: which CPU rows to time (f32 q4 flexq-cpu), fewer when device time is short
has_row() { case " ${JLAMA_CPU_ROWS:-f32 q4 flexq-cpu} " in *" $1 "*) return 0;; esac; return 1; }
has_row f32 && row "Jlama F32" "$cpu" f32 "$model"
has_row q4 && row "Jlama Q4 (I8 activations)" "$cpu" q4 "$model-JQ4"
has_row flexq-cpu && row "FlexQ W6A8 flexq-cpu" "$cpu" flexq-a8 "$model"
if [ "$gpu" = 1 ]; then
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$out/gpumem.txt" 2>&1 &
  sampler=$!; sleep 1
  for how in ${JLAMA_GPU_WAYS:-shared launch whole}; do   # JLAMA_GPU_WAYS: fewer ways when device time is short
    idle=$(tail -1 "$out/gpumem.txt" 2>/dev/null)
    before=$(wc -l < "$out/gpumem.txt")
    row "FlexQ W6A8 flexq-cuda rowRanges=$how" "$all" flexq-a8 "$model" -Dflexq.cuda.rowRanges=$how -Dflexq.device=cuda
    peak=$(tail -n +"$((before + 1))" "$out/gpumem.txt" | sort -n | tail -1)
    echo "    GPU memory used: peak ${peak:-?} MiB during the run, ${idle:-?} MiB before it (nvidia-smi, every 200 ms)"
  done
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
else
  echo "| FlexQ W6A8 flexq-cuda | skipped: no GPU here (nvidia-smi -L failed) |"
fi
echo "# done in $SECONDS s"
}

main 2>&1 | tee "$out/jlama-gpu.md"
