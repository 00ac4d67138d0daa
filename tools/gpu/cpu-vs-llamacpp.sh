#!/usr/bin/env bash
# On the GPU host (16 cores, no Java, no Maven), from the bundle of tools/gpu/bundle.sh: ours vs llama.cpp on the CPU
# (bench/compare-llama-cpp.sh) on a synthetic Llama 3.2 1B-shaped GGUF that both programs read, plus the decode-kernel
# bandwidth table. Builds llama.cpp CPU-only from the bundled source if /tmp/lb-cpu has no llama-bench yet.
# Writes everything to $OUT/cpu-vs-llamacpp.txt. Knobs (environment): ROUNDS (3), PROMPT (512), DECODE (32),
# THREADS (nproc), SHAPE (llama-3.2-1b), KERNELS (1: also the kernel table).
set -euo pipefail
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
ROUNDS=${ROUNDS:-3}; PROMPT=${PROMPT:-512}; DECODE=${DECODE:-32}; THREADS=${THREADS:-$(nproc)}; SHAPE=${SHAPE:-llama-3.2-1b}
W=/tmp/cpu-bench; mkdir -p "$W"
log="$OUT/cpu-vs-llamacpp.txt"
exec > >(tee "$log") 2>&1
start=$(date +%s)
[ -x /tmp/jre/bin/java ] || tar xJf "$G/jre.tar.xz" -C /tmp
export FLEXQ_JAVA=/tmp/jre/bin/java
export FLEXQ_CP="$G/classes/runtime-adapter:$G/classes/flexq-plugin:$(ls "$G"/lib/*.jar | grep -v console | tr '\n' ':')"
if [ ! -x /tmp/lb-cpu/bin/llama-bench ]; then
  rm -rf /tmp/lc-cpu; mkdir -p /tmp/lc-cpu; tar xJf "$G/llama.cpp-src.tar.xz" -C /tmp/lc-cpu
  cmake -S /tmp/lc-cpu/lc -B /tmp/lb-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF > "$W/cmake.log" 2>&1
  cmake --build /tmp/lb-cpu -j "$(nproc)" --target llama-bench llama-quantize > "$W/build.log" 2>&1
  echo "llama.cpp (CPU only) built in $(( $(date +%s) - start )) s"
fi
f16="$W/$SHAPE-f16.gguf"; q8="$W/$SHAPE-q8_0.gguf"; fq6="$W/$SHAPE-fq6-a8.gguf"
[ -f "$f16" ] || python3 "$G/synth_gguf.py" "$SHAPE" "$f16"
[ -f "$q8" ] || /tmp/lb-cpu/bin/llama-quantize "$f16" "$q8" Q8_0 "$THREADS" > "$W/q8.log" 2>&1
# FQ6 with round-to-nearest scales (--no-clip): the weights are random, only the speed is measured
[ -f "$fq6" ] || "$FLEXQ_JAVA" --add-modules jdk.incubator.vector -Xmx16g -cp "$FLEXQ_CP" io.flexq.runtime.cli.Main \
  quantize "$f16" "$fq6" --preset a8 --no-clip --quiet
echo "models ready at $(( $(date +%s) - start )) s"
k=(); [ "${KERNELS:-1}" = 1 ] && k=(--kernels --kernel-args "--rows 4096 --cols 4096 --ring-mb 1024 --seconds 1")
bash "$G/compare-llama-cpp.sh" --llama-bench /tmp/lb-cpu/bin/llama-bench --threads "$THREADS" --rounds "$ROUNDS" \
  --prompt "$PROMPT" --decode "$DECODE" "${k[@]}" \
  "FQ6 W6A8 vs Q8_0=$fq6,$q8" "Q8_0=$q8,$q8" "F16=$f16,$f16"
echo "total $(( $(date +%s) - start )) s"
