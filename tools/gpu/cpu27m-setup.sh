#!/usr/bin/env bash
# Sourced by the 16-core CPU call scripts (bench/results/device-r14/call{A,I}-*.sh), from a folder G laid out like
# .cpu/: jre.tar.xz, lib/*.jar, a/ and b/ (two builds: runtime-adapter and flexq-plugin classes), llama.cpp-src.tar.xz
# (../shared/bench-anchors), synth_gguf.py. Needs G and lap() from the caller. Gives: J (java), LB (a CPU-only
# llama.cpp build: llama-bench, llama-quantize; built once per machine), CP_A / CP_B, fx CLASSPATH ARGS... (our CLI;
# JOPTS adds JVM options), and the 27M-shaped random-weight files F16, FQ6 (flexq quantize, preset a8, round to
# nearest) and Q8 (llama-quantize) under W=/tmp/c27.
[ -x /tmp/jre/bin/java ] || tar xJf $G/jre.tar.xz -C /tmp
J=/tmp/jre/bin/java; W=/tmp/c27; mkdir -p $W; LB=/tmp/lb-cpu/bin
if [ ! -x $LB/llama-bench ]; then
  rm -rf /tmp/lc-cpu; mkdir -p /tmp/lc-cpu; tar xJf $G/llama.cpp-src.tar.xz -C /tmp/lc-cpu
  cmake -S /tmp/lc-cpu/lc -B /tmp/lb-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF > $W/cmake.log 2>&1
  cmake --build /tmp/lb-cpu -j 16 --target llama-bench llama-quantize > $W/build.log 2>&1
fi
lap "llama.cpp: $(ls $LB 2>&1 | tr '\n' ' ')"
CP_A="$G/a/runtime-adapter:$G/a/flexq-plugin:$(ls $G/lib/*.jar | tr '\n' ':')"
CP_B="$G/b/runtime-adapter:$G/b/flexq-plugin:$(ls $G/lib/*.jar | tr '\n' ':')"
fx() { local cpth=$1; shift; $J --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g ${JOPTS:-} -cp "$cpth" io.flexq.runtime.cli.Main "$@"; }
F16=$W/r27-f16.gguf; FQ6=$W/r27-fq6.gguf; Q8=$W/r27-q8_0.gguf
if [ ! -f $F16 ]; then
  python3 - $G/synth_gguf.py ref-27m $F16 <<'PY' > $W/synth.log 2>&1
import sys
path, shape, out = sys.argv[1:4]
src = open(path).read().replace("SHAPES = {", 'SHAPES = {"ref-27m": (512, 1536, 8, 8, 4, 4096, 10000.0), ', 1)
sys.argv = [path, shape, out]
exec(compile(src, path, "exec"), {"__name__": "__main__"})
PY
fi
[ -f $FQ6 ] || fx "$CP_B" quantize $F16 $FQ6 --preset a8 --no-clip --no-gptq --max-bytes none --quiet > $W/fq6.log 2>&1
[ -f $Q8 ] || $LB/llama-quantize $F16 $Q8 Q8_0 16 > $W/q8.log 2>&1
ls -la $F16 $FQ6 $Q8; lap "models"
