#!/usr/bin/env bash
# GPU-host end-to-end benchmark (bench/results/e2e-h200.md): from the bundle made by tools/gpu/bundle.sh (.gpu/, with
# anchors/ = ../shared/bench-anchors). Writes a random-weight Llama-3.1-8B-shaped F16 GGUF with the anchors' writer,
# quantizes it to FQ6 (preset a8) with `flexq quantize`, and times FP16 and FQ6 (a8, a6, paper activation modes of the
# same weights) through io.flexq.cuda.E2eBench; builds llama.cpp from the anchors in the background and runs
# llama-bench on the same F16 file and its Q8_0 / Q6_K quantizations. Logs under $OUT.
#   STEPS="junit build synth f16 fq6 llama" bash .gpu/e2e-bench.sh
# More steps: ncu (Nsight Compute sections of the decode kernels: NCU_KERNELS regex, NCU_SKIP, NCU_COUNT), kbench (single-kernel timings, CudaKernelBenchmark), conformance (flexq conformance --backend flexq-cuda), profile (stage times, DecoderProfile; JFLAGS and PROFILE_TAG for variants), fq6s (a
# synthetic FQ6 model of the shape, no quantize step; VARIANTS="default cuda.pdl=false act_preset=a6" for A/B runs of -Dflexq.*;
# SYNTH_HEAD=":f16" makes the synthetic model FP16 throughout), 70b.
set -u
export G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
W=${WORK:-/tmp/e2e}; mkdir -p "$W"
STEPS=${STEPS:-"junit synth f16 fq6 llama"}
SHAPE=${SHAPE:-llama-3.1-8b}
SYNTH_HEAD=${SYNTH_HEAD:-:q8_0}
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
[ -x /tmp/jre/bin/java ] || tar xJf "$G/jre.tar.xz" -C /tmp
{ nvidia-smi; date -u; nproc; } > "$OUT/env.log" 2>&1
CP=$(for d in "$G"/classes/*/; do printf '%s:' "$d"; done)$(ls "$G"/lib/*.jar | grep -v console | tr '\n' ':')
H="$G/root"; [ -d "$H" ] || H=$(cd "$G/.." && pwd)   # flexq.home: the lean bundle uses the checkout's models/ (tracked)
J="/tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx96g -Dflexq.cuda.cache=/tmp/fc -Dflexq.shared=$G/shared -Dflexq.home=$H -Dflexq.ref27m=${REF27M:-/tmp/m27/ref27M-fq6.gguf} -Dflexq.ref27mLogits=${REF27M_LOGITS:-/tmp/m27/ref27M-f16-logits.bin}"
has() { case " $STEPS " in *" $1 "*) return 0;; esac; return 1; }
t() { local s=$(date +%s); "$@"; echo "  ($(( $(date +%s) - s )) s) $*" >> "$OUT/times.log"; }

if { has build || has llama; } && [ ! -x /tmp/lb/bin/llama-bench ] && [ ! -f /tmp/lb.started ]; then
  touch /tmp/lb.started   # setsid: the build outlives this command (the machine stays warm between calls)
  setsid bash -c 'tar xJf "$G/anchors/llama.cpp-src.tar.xz" -C /tmp && \
    cmake -S /tmp/lc -B /tmp/lb -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
      -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
      -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF && \
    nice cmake --build /tmp/lb -j 12 --target llama-bench llama-quantize' > /tmp/llama-build.log 2>&1 < /dev/null &
fi
if has junit; then
  sel=""; for c in ${JUNIT_CLASSES:-CudaDecoderGpuTest}; do sel="$sel --select-class io.flexq.cuda.$c"; done
  t timeout ${T_JUNIT:-300} $J ${JFLAGS:-} -jar "$G"/lib/junit-platform-console-standalone-*.jar execute -cp "$CP" $sel \
    --details=tree --disable-banner --disable-ansi-colors > "$OUT/junit${JUNIT_TAG:-}.log" 2>&1
  grep -E "\[decoder\]|✘|tests (successful|failed)" "$OUT/junit${JUNIT_TAG:-}.log" | head -40
fi
if has conformance; then
  t timeout 180 $J -cp "$CP" io.flexq.runtime.cli.Main conformance --backend flexq-cuda --report "$OUT/conformance.md" > "$OUT/conformance.log" 2>&1
  echo "conformance rc=$?"; tail -25 "$OUT/conformance.log"
fi
if has profile; then   # where a step's device time goes, stage by stage (synthetic FQ6 8B, then the F16 file if present)
  t timeout 240 $J ${JFLAGS:-} -Dflexq.profile=${PROFILE:-2,256,32} -cp "$CP" io.flexq.cuda.E2eBench synthetic-fq6:$SHAPE${SYNTH_HEAD:-:q8_0} "FQ6 W6A8, $SHAPE shape" \
    2>&1 | tee "$OUT/profile-fq6${PROFILE_TAG:-}.log" | grep -vE "^(flexq-cuda: layer|WARNING)"
  [ -f "$W/m-f16.gguf" ] && t timeout 240 $J -Dflexq.profile=${PROFILE:-2,256,32} -cp "$CP" io.flexq.cuda.E2eBench "$W/m-f16.gguf" "F16, $SHAPE shape" \
    2>&1 | tee "$OUT/profile-f16.log" | grep -vE "^(flexq-cuda: layer|WARNING)"
fi
if has fq6s; then      # synthetic FQ6 of the same shape (random codes; Q8_0 head and embedding as quantize writes): no quantize step
  for v in ${VARIANTS:-default}; do   # e.g. VARIANTS="default cuda.pdl=false act_preset=a6": -Dflexq.KEY=VALUE per variant
    flags=""; [ "$v" = default ] || for kv in ${v//,/ }; do flags="$flags -Dflexq.$kv"; done
    t timeout 300 $J $flags -cp "$CP" io.flexq.cuda.E2eBench synthetic-fq6:$SHAPE${SYNTH_HEAD:-:q8_0} "FQ6 synthetic (ours, $v)" 512 128 ${BATCHES:-1,8,32} 3 2>&1 \
      | tee "$OUT/bench-fq6s${SYNTH_HEAD//:/-}-$v.log" | grep -E "^\||loaded|flexq-cuda|rror"
  done
fi
if has kbench; then     # single kernels with CUDA events (CudaKernelBenchmark): KB_FILTER shapes (8B, 70B, 7B), KB_MS token counts, KB_FLAGS JVM flags
  t timeout 300 $J ${KB_FLAGS:-} -cp "$CP" io.flexq.cuda.CudaKernelBenchmark "$OUT/kbench.csv" "${KB_FILTER:-8B}" "${KB_MS:-1,8}" > "$OUT/kbench.log" 2>&1
  grep -E "^  " "$OUT/kbench.log" | grep -v quantize | cut -d, -f1,4,5,6,8,10
fi
if has ncu; then        # hardware counters of decode kernels inside the replayed graph (Nsight Compute, clocks left alone)
  # NCU_SPECS: "regex@skip@count ...": the matching launches to skip, then to profile (a step has ~160 matching launches)
  # NCU_PROMPT: prompt tokens before the profiled steps (64); NCU_CACHE=none keeps the caches warm between kernels (all)
  i=0
  for spec in ${NCU_SPECS:-"gemv_i8_ord|dec_resid_gemv|dec_qkv_rope_gemv|dec_attention_hd128|dec_attention_merge@400@10" "dec_q8_gemv|dec_argmax@3@6"}; do
    i=$((i + 1)); IFS=@ read -r rx skip cnt <<< "$spec"
    t timeout ${T_NCU:-200} ncu --clock-control none --cache-control ${NCU_CACHE:-all} --target-processes all -k "regex:$rx" --launch-skip "$skip" --launch-count "$cnt" \
      --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
      $J -cp "$CP" io.flexq.cuda.E2eBench synthetic-fq6:$SHAPE${SYNTH_HEAD:-:q8_0} "FQ6 under ncu" ${NCU_PROMPT:-64} 8 1 1 > "$OUT/ncu-$i.log" 2>&1
    grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit Reg|Warp Cycles Per Issued|Stall" "$OUT/ncu-$i.log" | head -120
  done
fi
if has synth && [ ! -f "$W/m-f16.gguf" ]; then
  t python3 "$G/anchors/synth_gguf.py" "$SHAPE" "$W/m-f16.gguf" > "$OUT/synth.log" 2>&1; tail -2 "$OUT/synth.log"
fi
if has f16; then
  t $J -cp "$CP" io.flexq.cuda.E2eBench "$W/m-f16.gguf" "FP16 (ours)" 512 128 ${BATCHES:-1,8,32} 3 2>&1 | tee "$OUT/bench-f16.log" | grep -E "^\||loaded|flexq-cuda"
fi
if has fq6; then
  if [ ! -f "$W/m-fq6.gguf" ]; then
    t $J -cp "$CP" io.flexq.runtime.cli.Main quantize "$W/m-f16.gguf" "$W/m-fq6.gguf" --preset a8 > "$OUT/quantize.log" 2>&1 \
      || $J -cp "$CP" io.flexq.plugin.cli.Main quantize "$W/m-f16.gguf" "$W/m-fq6.gguf" --preset a8 >> "$OUT/quantize.log" 2>&1
    tail -3 "$OUT/quantize.log"
  fi
  for p in ${PRESETS:-a8 a6 paper}; do
    t $J -Dflexq.act_preset=$p -cp "$CP" io.flexq.cuda.E2eBench "$W/m-fq6.gguf" "FQ6 $p (ours)" 512 128 ${BATCHES:-1,8,32} 3 2>&1 \
      | tee "$OUT/bench-fq6-$p.log" | grep -E "^\||loaded|flexq-cuda"
  done
fi
if has llama; then
  for i in $(seq 1 60); do [ -x /tmp/lb/bin/llama-bench ] && [ -x /tmp/lb/bin/llama-quantize ] && break; sleep 5; done
  tail -2 /tmp/llama-build.log
  for q in ${LLAMA_TYPES:-Q8_0 Q6_K}; do
    [ -f "$W/m-$q.gguf" ] || t /tmp/lb/bin/llama-quantize "$W/m-f16.gguf" "$W/m-$q.gguf" $q 16 > "$OUT/llama-quantize-$q.log" 2>&1
  done
  models=(-m "$W/m-f16.gguf"); for q in ${LLAMA_TYPES:-Q8_0 Q6_K}; do models+=(-m "$W/m-$q.gguf"); done
  t /tmp/lb/bin/llama-bench "${models[@]}" -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench.log"
fi
if has 70b; then
  t $J -Xmx110g -cp "$CP" io.flexq.cuda.E2eBench synthetic-fq6:llama-2-70b "FQ6 a8 Llama-2-70B shape (ours)" 128 32 1 2 2>&1 \
    | tee "$OUT/bench-70b.log" | grep -E "^\||loaded|flexq-cuda|rror"
fi
cat "$OUT/times.log"
