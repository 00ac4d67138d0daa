#!/usr/bin/env bash
# session 13, call C (CPU, GPU host's 16 cores; cut to fit the device time left): 27M prefill-512 after the session's CPU changes.
#  1. the committed comparison: compare-llama-cpp.sh, B (this session's code), FQ6 vs llama.cpp Q8_0, 3 rounds, prompt 512, decode 32
#  2. stage profile of B at 16 threads if time is left
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); OUT=${OUT:-/tmp/out}; mkdir -p $OUT
T0=$(date +%s); lap() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(lscpu | grep -E '^Thread|^Core' | tr -s ' ' | tr '\n' ';')"
[ -x /tmp/jre/bin/java ] || tar xJf $G/jre.tar.xz -C /tmp
J=/tmp/jre/bin/java; W=/tmp/c27; mkdir -p $W
LB=/tmp/lb-cpu/bin
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
FLEXQ_JAVA=$J FLEXQ_CP="$CP_B" FLEXQ_JAVA_OPTS="-Xmx16g" timeout 150 bash $G/compare-llama-cpp.sh --llama-bench $LB/llama-bench \
  --llama-args "-ngl 0" --threads 16 --ours-warmup 4 --rounds 3 --prompt 512 --decode 32 --deadline $(( T0 + ${BUDGET:-190} - 20 )) \
  "FQ6 W6A8 vs Q8_0, ref-27m=$FQ6,$Q8" 2>&1 | tail -12
lap "comparison"
[ $(( $(date +%s) - T0 )) -lt ${BUDGET:-190} ] && JOPTS="-Dflexq.cpu.profile=true" fx "$CP_B" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 10 2>&1 | grep -E "^\| [^m]|team jobs"
lap "profile"
