#!/usr/bin/env bash
# session 14, call I (CPU, the GPU host's 16 cores): FQ6 prompt matmuls split by tokens as well as rows on many threads.
#  1. alternating rounds: A = 5cc9160 (call A's B), B = 3f517b4 (token ranges), each `bench --threads 16 --prompt-tokens
#     512 --decode-tokens 1 --warmup 6 --runs 20` (median [min, max] prefill tok/s of 20 prompts), and llama-bench pp512
#     -r 5 on llama.cpp's Q8_0 of the same weights; order A B L, then L B A, ...
#  2. the committed comparison: compare-llama-cpp.sh with B, FQ6 vs Q8_0, prompt 512, decode 32, 6 rounds
#  3. B's stage profile and team counts, FQ6 and our Q8_0 (our Q8_0 matmuls are not split by tokens)
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); T0=$(date +%s); lap() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
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
pre() { awk -F'|' -v n="$1" '/^\| r27/ {print n, "prefill", $9}'; }
b20() { fx "$@" bench --model $FQ6 --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 6 --runs 20 2>/dev/null; }
for r in 1 2 3 4 5 6 7 8; do
  [ $(( $(date +%s) - T0 )) -lt ${ROUNDS_UNTIL:-200} ] || break
  if [ $((r % 2)) = 1 ]; then order="A B L"; else order="L B A"; fi
  for v in $order; do
    case $v in
      A) b20 "$CP_A" | pre "round $r A 5cc9160" ;;
      B) b20 "$CP_B" | pre "round $r B 3f517b4" ;;
      L) echo "round $r llama.cpp Q8_0 $($LB/llama-bench -m $Q8 -t 16 -p 512 -n 0 -r 5 2>/dev/null | grep pp512 | awk -F'|' '{print $(NF-1)}')" ;;
    esac
  done
  echo "  load $(cut -d' ' -f1-3 /proc/loadavg)"
done
lap "rounds"
FLEXQ_JAVA=$J FLEXQ_CP="$CP_B" FLEXQ_JAVA_OPTS="-Xmx16g" timeout 120 bash $G/compare-llama-cpp.sh --llama-bench $LB/llama-bench \
  --llama-args "-ngl 0" --threads 16 --ours-warmup 4 --rounds 6 --prompt 512 --decode 32 --deadline $(( T0 + ${BUDGET:-330} - 25 )) \
  "FQ6 W6A8 vs Q8_0, ref-27m=$FQ6,$Q8" 2>&1 | grep -E "^round|^\|"
lap "comparison"
for m in $FQ6 $Q8; do
  [ $(( $(date +%s) - T0 )) -lt ${BUDGET:-330} ] || break
  JOPTS="-Dflexq.cpu.profile=true" fx "$CP_B" bench --model $m --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 4 --runs 10 2>&1 | grep -E "^\| [^m]|team jobs"
done
lap "profile"
