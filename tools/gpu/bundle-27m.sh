#!/usr/bin/env bash
# The 27M reference model's files for the device host, under .gpu27/ (ignored by git), carried in a call of their own
# (with the test bundle they exceed the 64 MiB carry):
#   ref27M-fq6.gguf          `flexq quantize ... --max-bytes none` of ../shared/models/flexq-ref-27M-f16.gguf (~20 min on
#                            2 cores: GPTQ calibration; kept if present): every linear FQ6, the file Ref27MGpuTest's
#                            bounds were set on (the default's q6_k budget would make 26 linears Q8_0, which the
#                            device runs as fp16 copies)
#   ref27M-f16-logits.bin    the F16 model's logits on 4 held-out windows (io.flexq.cuda.ReferenceLogits, seconds)
# On the device: call 1, carry [".gpu27"]: `mkdir -p /tmp/m27 && cp .gpu27/* /tmp/m27/`; call 2 right after it (the
# machine keeps /tmp while warm), carry [".gpu"]: `JUNIT_CLASSES=Ref27MGpuTest STEPS=junit bash .gpu/e2e-bench.sh`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/bin/find-java"
cd "$root"
src="${FLEXQ_SHARED:-$root/../shared}"
mkdir -p .gpu27
mvn -q -B -ntp -Dflexq.nvcc.skip=true -DskipTests -pl kernels -am test-compile
cp="kernels/target/test-classes:kernels/target/classes:flexq-plugin/target/classes:runtime-adapter/target/classes:runtime-adapter/target/test-classes"
if [ ! -f .gpu27/ref27M-fq6.gguf ]; then
  bin/flexq quantize "$src/models/flexq-ref-27M-f16.gguf" .gpu27/ref27M-fq6.gguf --max-bytes none
fi
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$cp" io.flexq.cuda.ReferenceLogits \
  "$src/models/flexq-ref-27M-f16.gguf" "$src/data/refmodel-heldout.txt" 4 .gpu27/ref27M-f16-logits.bin
# the same-session comparison's first call runs from here too: llama.cpp's source, the synthetic GGUF writer, the scripts
cp "$src"/bench-anchors/llama.cpp-src.tar.xz "$src"/bench-anchors/synth_gguf.py tools/gpu/session-start.sh tools/gpu/session-bench.sh .gpu27/
du -sh .gpu27
