#!/usr/bin/env bash
# session 13, call F (CPU, 16 cores, ~200 s): what narrows our 27M prompt-time spread on 16 threads. Each variant:
# bench --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 6 --runs 20 (median [min, max] prefill tok/s),
# alternating twice; llama-bench pp512 -r 5 between. Variants: default | -XX:+UseParallelGC | spin 2 ms before a
# worker parks (-Dflexq.cpu.spinMicros=2000) | -XX:CICompilerCount=2 (fewer JIT threads beside the team).
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd); T0=$(date +%s)
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/  */ /g')"
[ -x /tmp/jre/bin/java ] || tar xJf $G/jre.tar.xz -C /tmp
W=/tmp/c27; mkdir -p $W; LB=/tmp/lb-cpu/bin
CP="$G/b/runtime-adapter:$G/b/flexq-plugin:$(ls $G/lib/*.jar | tr '\n' ':')"
fx() { /tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g "$@"; }
if [ ! -f $W/r27-fq6.gguf ]; then
  python3 - $G/synth_gguf.py ref-27m $W/r27-f16.gguf <<'PY' > $W/synth.log 2>&1
import sys
path, shape, out = sys.argv[1:4]
src = open(path).read().replace("SHAPES = {", 'SHAPES = {"ref-27m": (512, 1536, 8, 8, 4, 4096, 10000.0), ', 1)
sys.argv = [path, shape, out]
exec(compile(src, path, "exec"), {"__name__": "__main__"})
PY
  fx -cp "$CP" io.flexq.runtime.cli.Main quantize $W/r27-f16.gguf $W/r27-fq6.gguf --preset a8 --no-clip --no-gptq --max-bytes none --quiet > $W/fq6.log 2>&1
fi
echo "[$(( $(date +%s) - T0 )) s] model"
for r in 1 2; do
  for v in "default|" "parallelgc|-XX:+UseParallelGC" "spin2ms|-Dflexq.cpu.spinMicros=2000" "jit2|-XX:CICompilerCount=2"; do
    [ $(( $(date +%s) - T0 )) -lt ${BUDGET:-170} ] || break 2
    n=${v%%|*}; o=${v#*|}
    fx $o -cp "$CP" io.flexq.runtime.cli.Main bench --model $W/r27-fq6.gguf --threads 16 --prompt-tokens 512 --decode-tokens 1 --warmup 6 --runs 20 2>/dev/null \
      | awk -F'|' -v n="round $r $n" '/^\| r27/ {print n, "prefill", $9}'
  done
  [ -x $LB/llama-bench ] && [ -f $W/r27-q8_0.gguf ] && $LB/llama-bench -m $W/r27-q8_0.gguf -t 16 -p 512 -n 0 -r 5 2>/dev/null | grep pp512
done
echo "[$(( $(date +%s) - T0 )) s] done"
