#!/usr/bin/env bash
# Soak (issue 11): CYCLES load/forward/close cycles of MODEL, then TOKENS generated tokens, on the CPU, printing heap
# (after GC), RSS, native memory committed (NMT), threads, open file descriptors and model mappings at the start,
# along the way and at the end (io.flexq.samples.soak.Soak). Default: the 27M reference model quantized to FQ6
# (the model whose loads leaked a thread pool each), 500 cycles, 10,000 tokens.
#
#   bench/soak.sh [MODEL.gguf] [CYCLES] [TOKENS]
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/find-java
model=${1:-}
cycles=${2:-500}
tokens=${3:-10000}
mvn -q -B -ntp -Dflexq.nvcc.skip=true -pl samples -am package -DskipTests
cp="samples/target/classes:$(cat samples/target/classpath.txt)"
if [ -z "$model" ]; then
    model=$(mktemp -d)/ref27M-fq6.gguf
    "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$cp" io.flexq.runtime.cli.Main quantize \
        ../shared/models/flexq-ref-27M-f16.gguf "$model" --preset a8 >/dev/null
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%FT%TZ)"
echo "command: bench/soak.sh $model $cycles $tokens"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -XX:NativeMemoryTracking=summary -Xmx1g \
    -cp "$cp" io.flexq.samples.soak.Soak "$model" "$cycles" "$tokens"
