#!/usr/bin/env bash
# session 9 call B (one call; the cubin and stories260K.bin travel compressed / from the checkout to fit the carry):
# starts the llama.cpp build and the synthetic F16 8B file in the background, then GPU tests (SwiGLU in the gate+up
# matmul, the 8/16-warp attention), attention phase traces, decode A/B, b8/b32, and llama.cpp Q8_0 in the same call
set -o pipefail
G=$(pwd)/.gpu
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
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
STEPS=junit T_JUNIT=200 JUNIT_CLASSES="SwigluGpuTest AttentionKernelsGpuTest CudaDecoderGpuTest" bash $G/e2e-bench.sh 2>&1 | tail -3
grep -E "✘" "$OUT/junit.log" | head -20
grep -E "^\[attention\]|^\[swiglu\]" "$OUT/junit.log" | head -40
for v in "default" "-Dflexq.cuda.decodeWarps=16 -Dflexq.cuda.decodeChunk=64"; do
  f=""; [ "$v" = default ] || f="$v"; tag=$(echo "$f" | tr -d ' ' | sed 's/-Dflexq.cuda./-/g')
  echo "== profile $v"
  JFLAGS="$f" PROFILE_TAG="$tag" STEPS=profile bash $G/e2e-bench.sh 2>&1 | grep -E "^\| (phase|started|past|scores|partials|counted|merger|merged|attention \(|gate|swiglu|\*\*all)|^The first|^Decode step replayed"
done
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.fuseSwiglu=false cuda.decodeWarps=16,cuda.decodeChunk=64 cuda.decodeWarps=16 cuda.decodeWarps=8 default cuda.fuseSwiglu=false cuda.decodeWarps=16,cuda.decodeChunk=64 cuda.decodeWarps=16,cuda.decodeChunk=64,cuda.fuseSwiglu=false cuda.decodeWarps=8,cuda.decodeChunk=64" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
STEPS=fq6s BATCHES=8,32 VARIANTS="default cuda.decodeWarps=16,cuda.decodeChunk=64" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
date -u
for i in $(seq 1 50); do [ -x /tmp/lb/bin/llama-bench ] && [ -x /tmp/lb/bin/llama-quantize ] && break; sleep 5; done; tail -1 /tmp/llama-build.log
W=/tmp/e2e
for i in $(seq 1 30); do [ -f $W/m-f16.gguf ] && break; sleep 5; done; ls -la $W
[ -f $W/m-q8_0.gguf ] || timeout 120 /tmp/lb/bin/llama-quantize $W/m-f16.gguf $W/m-q8_0.gguf Q8_0 > "$OUT/llama-quantize.log" 2>&1
timeout 100 /tmp/lb/bin/llama-bench -m $W/m-q8_0.gguf -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench.log" | grep -E "^\| llama"
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.decodeWarps=16,cuda.decodeChunk=64 cuda.fuseSwiglu=false" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
date -u
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
