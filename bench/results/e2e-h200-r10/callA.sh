#!/usr/bin/env bash
# session 10 call A (one call; after .gpu27/session-start.sh staged the 27M files and started the llama.cpp build and
# the synthetic F16 8B file on the same warm machine; falls back to starting them here). The cubin and stories260K.bin
# travel compressed / from the checkout to fit the carry. Final code of round 9 + the fitted in-kernel merge:
# GPU tests, the 27M model on the device, decode A/B (fitMerge), the attention trace, b8/b32, then llama.cpp
# Q8_0 / Q6_K / F16 in the same call and our rows again.
set -o pipefail
G=$(pwd)/.gpu
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s]"; }
xz -dkf $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz && rm $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz
cp models/stories260K.bin $G/shared/models/
mkdir -p /tmp/e2e
if [ ! -f /tmp/lb.started ]; then
  touch /tmp/lb.started
  setsid bash -c "tar xJf $G/llama.cpp-src.tar.xz -C /tmp && \
    cmake -S /tmp/lc -B /tmp/lb -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
      -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
      -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF && \
    nice cmake --build /tmp/lb -j 12 --target llama-bench llama-quantize" > /tmp/llama-build.log 2>&1 < /dev/null &
fi
if [ ! -f /tmp/e2e/m-f16.gguf ] && [ ! -f /tmp/synth.started ]; then
  touch /tmp/synth.started
  setsid bash -c "python3 $G/anchors/synth_gguf.py llama-3.1-8b /tmp/e2e/m-f16.part > /tmp/synth.log 2>&1 && mv /tmp/e2e/m-f16.part /tmp/e2e/m-f16.gguf" < /dev/null > /dev/null 2>&1 &
fi
cp tools/gpu/e2e-bench.sh $G/e2e-bench.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u; ls /tmp/m27 2>&1 | head -3
STEPS=junit T_JUNIT=200 JUNIT_CLASSES="AttentionKernelsGpuTest CudaDecoderGpuTest" bash $G/e2e-bench.sh 2>&1 | tail -3
grep -E "✘" "$OUT/junit.log" | head -20; el
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.fitMerge=false default cuda.fitMerge=false default cuda.decodeWarps=4,cuda.decodeChunk=32 cuda.decodeChunk=48" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el
STEPS=junit T_JUNIT=150 JUNIT_CLASSES="Ref27MGpuTest" JUNIT_TAG=-ref27m bash $G/e2e-bench.sh 2>&1 | grep -E "tests (succ|fail)|KLD|✘" | head; el
for v in default fitMerge=false; do
  f=""; [ "$v" = default ] || f="-Dflexq.cuda.$v"
  echo "== profile $v"
  JFLAGS="$f" PROFILE_TAG="-$v" STEPS=profile bash $G/e2e-bench.sh 2>&1 | grep -E "^\| (started|past|scores|partials|counted|merger|merged|attention \(|\*\*all)|^The first|^Decode step replayed"
done; el
STEPS=fq6s BATCHES=8,32 VARIANTS="default cuda.fitMerge=false" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el
for i in $(seq 1 40); do [ -x /tmp/lb/bin/llama-bench ] && [ -x /tmp/lb/bin/llama-quantize ] && [ -f /tmp/e2e/m-f16.gguf ] && break; sleep 5; done
tail -1 /tmp/llama-build.log; ls -la /tmp/e2e; el
W=/tmp/e2e
[ -f $W/m-Q8_0.gguf ] || timeout 120 /tmp/lb/bin/llama-quantize $W/m-f16.gguf $W/m-Q8_0.gguf Q8_0 16 > "$OUT/llama-quantize-Q8_0.log" 2>&1
timeout 90 /tmp/lb/bin/llama-bench -m $W/m-Q8_0.gguf -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench-q8.log" | grep -E "^\| llama"; el
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.fitMerge=false default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el
if [ $(( $(date +%s) - T0 )) -lt 400 ]; then
  STEPS=f16 BATCHES=1,8 bash $G/e2e-bench.sh 2>&1 | grep -E "^\||rror"; el
  [ -f $W/m-Q6_K.gguf ] || timeout 100 /tmp/lb/bin/llama-quantize $W/m-f16.gguf $W/m-Q6_K.gguf Q6_K 16 > "$OUT/llama-quantize-Q6_K.log" 2>&1
  timeout 80 /tmp/lb/bin/llama-bench -m $W/m-f16.gguf -m $W/m-Q6_K.gguf -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench-f16-q6k.log" | grep -E "^\| llama"; el
fi
if [ $(( $(date +%s) - T0 )) -lt 500 ]; then
  STEPS=fq6s BATCHES=1 VARIANTS="act_preset=a6 act_preset=paper default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el
fi
date -u
for f in "$OUT"/*; do n=$(basename "$f" | tr '=,' '__'); [ "$n" = "$(basename "$f")" ] || mv "$f" "$OUT/$n"; done
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
