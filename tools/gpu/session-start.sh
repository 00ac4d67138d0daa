#!/usr/bin/env bash
# Device call A of a same-session comparison (bench/results/e2e-h100.md, round 5), from the folder that
# tools/gpu/bundle-27m.sh lays out (.gpu27/, carried alone: with the test bundle it exceeds the 64 MiB carry):
# stages the 27M files in /tmp/m27, then starts the llama.cpp CUDA build and the synthetic F16 8B GGUF in the
# background (setsid: they outlive the call while the machine stays warm). Call B right after it:
# carry [".gpu"], `bash .gpu27/session-bench.sh`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /tmp/m27 /tmp/e2e && cp "$here"/ref27M-* /tmp/m27/ && cp "$here"/llama.cpp-src.tar.xz "$here"/synth_gguf.py /tmp/
if [ ! -f /tmp/lb.started ]; then   # e2e-bench.sh's build and llama steps look for the same marker and paths
  touch /tmp/lb.started
  setsid bash -c 'tar xJf /tmp/llama.cpp-src.tar.xz -C /tmp && \
    cmake -S /tmp/lc -B /tmp/lb -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
      -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
      -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF && \
    nice cmake --build /tmp/lb -j 12 --target llama-bench llama-quantize' > /tmp/llama-build.log 2>&1 < /dev/null &
fi
if [ ! -f /tmp/e2e/m-f16.gguf ] && [ ! -f /tmp/synth.started ]; then   # written under another name, renamed when whole
  touch /tmp/synth.started
  setsid bash -c 'python3 /tmp/synth_gguf.py llama-3.1-8b /tmp/e2e/m-f16.part > /tmp/synth.log 2>&1 && mv /tmp/e2e/m-f16.part /tmp/e2e/m-f16.gguf' < /dev/null > /dev/null 2>&1 &
fi
sleep 5; ls -la /tmp/m27 /tmp/e2e; nvidia-smi --query-gpu=name --format=csv,noheader; date -u
