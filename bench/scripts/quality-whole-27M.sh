#!/usr/bin/env bash
# Whole-model files, like for like, on the 27M reference model (bench/results/quality-ref27M.md):
# llama.cpp's Q6_K and Q8_0 (llama-quantize, whole model) against FlexQ-J's default FQ6 file (a8, GPTQ, FQ6 head
# tied once; since issue 12's default budget also the linears that gain most as Q8_0 within the Q6_K size, where
# bounded; the older tables' all-FQ6 file is `quantize --max-bytes none`) and its W6A6
# twin (the FQ6 linears at A6, the Q8_0 ones unchanged), all scored by this project's runtime against the F16 model on
# the same windows.
#
#   bench/scripts/quality-whole-27M.sh [WINDOWS=100] [WORKDIR=/tmp/fq6-whole]
#
# Needs JDK 25 (bin/find-java), Maven, cmake + a C++ compiler (llama-quantize is built CPU-only from
# ../shared/bench-anchors unless LLAMA_QUANTIZE names a binary). About 10 min of builds, then
# 2 x (1 + 4) forward passes per window; on 2 cores ~30 s per pass, on 16 cores a few seconds.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/bin/find-java"
windows=${1:-100}
work=${2:-/tmp/fq6-whole}
shared="${FLEXQ_SHARED:-$here/../shared}"
model="$shared/models/flexq-ref-27M-f16.gguf"
mkdir -p "$work"
threads=$(nproc)

(cd "$here" && mvn -q -B -ntp -Dflexq.nvcc.skip=true -DskipTests -pl samples -am package)
cp="$here/samples/target/classes:$(cat "$here/samples/target/classpath.txt")"
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -Dflexq.shared="$shared" -cp "$cp")

if [ -z "${LLAMA_QUANTIZE:-}" ]; then
  if [ ! -x "$work/lb/bin/llama-quantize" ]; then
    tar xJf "$shared/bench-anchors/llama.cpp-src.tar.xz" -C "$work"
    cmake -S "$work/lc" -B "$work/lb" -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
      -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF > "$work/cmake.log"
    cmake --build "$work/lb" -j "$threads" --target llama-quantize > "$work/build.log"
  fi
  LLAMA_QUANTIZE="$work/lb/bin/llama-quantize"
fi
[ -f "$work/ref27M-Q6_K.gguf" ] || "$LLAMA_QUANTIZE" "$model" "$work/ref27M-Q6_K.gguf" Q6_K "$threads" > "$work/q6k.log" 2>&1
[ -f "$work/ref27M-Q8_0.gguf" ] || "$LLAMA_QUANTIZE" "$model" "$work/ref27M-Q8_0.gguf" Q8_0 "$threads" > "$work/q80.log" 2>&1

# the default file: no flags (preset a8 from the cost table, GPTQ, FQ6 head tied once), then its W6A6 twin
[ -f "$work/ref27M-fq6-default.gguf" ] || "${java[@]}" io.flexq.runtime.cli.Main quantize "$model" "$work/ref27M-fq6-default.gguf" \
    > "$work/quantize.log" 2>&1
[ -f "$work/ref27M-fq6-a6.gguf" ] || "${java[@]}" io.flexq.samples.bench.SetModes "$work/ref27M-fq6-default.gguf" "$work/ref27M-fq6-a6.gguf" a6

"${java[@]}" io.flexq.samples.bench.CompareFiles "$model" "$shared/data/wikitext2-test.txt,$shared/data/refmodel-heldout.txt" "$windows" \
    "$work/ref27M-Q6_K.gguf" "$work/ref27M-Q8_0.gguf" "$work/ref27M-fq6-default.gguf" "$work/ref27M-fq6-a6.gguf" | tee "$work/table.md"
