#!/usr/bin/env bash
# session 13, CPU on the GPU host's 16 cores: where the 27M model's prompt time goes on 16 threads (stage profile),
# and prefill-512 A (main 7e08e55) vs B (code sums from the quantizer, KV rows once per prompt, -Dflexq.promptBatch)
# alternating, with llama.cpp Q8_0 pp512 in the same rounds.
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); OUT=${OUT:-/tmp/out}; mkdir -p $OUT
T0=$(date +%s); lap() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g')"
[ -x /tmp/jre/bin/java ] || tar xJf $G/jre.tar.xz -C /tmp
J=/tmp/jre/bin/java; W=/tmp/c27; mkdir -p $W
LB=/tmp/lb-cpu/bin
if [ ! -x $LB/llama-bench ]; then
  ( rm -rf /tmp/lc-cpu; mkdir -p /tmp/lc-cpu; tar xJf $G/llama.cpp-src.tar.xz -C /tmp/lc-cpu
    cmake -S /tmp/lc-cpu/lc -B /tmp/lb-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DGGML_NATIVE=ON \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
      -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF > $W/cmake.log 2>&1
    cmake --build /tmp/lb-cpu -j 16 --target llama-bench llama-quantize > $W/build.log 2>&1; touch $W/lb.done ) &
fi
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
ls -la $F16 $FQ6; lap "models"
# stage profiles (B) at 1, 8, 16 threads while llama.cpp builds (its build uses the cores: the 16-thread profile is repeated below)
for t in 1 8; do JOPTS="-Dflexq.cpu.profile=true" fx "$CP_B" bench --model $FQ6 --threads $t --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 8 2>&1 | grep -E "^\| [^m]|team jobs" | grep -v "^| prompt stage" ; lap "profile t=$t (llama.cpp building)"; done
for _ in $(seq 1 60); do [ -f $W/lb.done ] && break; sleep 3; done; lap "llama.cpp built: $(ls $LB 2>&1 | tr '\n' ' ')"
[ -f $Q8 ] || $LB/llama-quantize $F16 $Q8 Q8_0 16 > $W/q8.log 2>&1; ls -la $Q8
for pb in 256 512; do JOPTS="-Dflexq.cpu.profile=true -Dflexq.promptBatch=$pb" fx "$CP_B" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 10 2>&1 | grep -E "^\| [^m]|team jobs"; lap "profile t=16 batch $pb"; done
JOPTS="-Dflexq.cpu.profile=true" fx "$CP_B" bench --model $Q8 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 10 2>&1 | grep -E "^\| [^m]|team jobs"; lap "profile Q8_0 t=16"
# alternating rounds, prefill-512 tok/s on 16 threads
for r in 1 2 3; do
  a=$(fx "$CP_A" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 5 2>/dev/null | awk -F'|' '/^\| r27/ {print $9}')
  b=$(JOPTS="-Dflexq.promptBatch=256" fx "$CP_B" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 5 2>/dev/null | awk -F'|' '/^\| r27/ {print $9}')
  b5=$(JOPTS="-Dflexq.promptBatch=512" fx "$CP_B" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 5 2>/dev/null | awk -F'|' '/^\| r27/ {print $9}')
  l=$($LB/llama-bench -m $Q8 -t 16 -p 512 -n 0 -r 3 2>/dev/null | awk -F'|' '/pp512/ {print $8}')
  echo "round $r: A $a | B256 $b | B512 $b5 | llama.cpp Q8_0 $l"
done
lap "rounds"
