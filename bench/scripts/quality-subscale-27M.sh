#!/usr/bin/env bash
# Issue 12's scale-layout experiment on the 27M reference model (bench/results/quality-ref27M.md, "Finer scale layouts"):
# whole models whose 56 linears are quantized in an experimental layout (fp16 scale per 128 + integer sub-scales per
# 16/32, or plain fp16 scales per 32/64; SubScaleLayout), the embedding / tied head Q8_0 stored once, scored against
# the F16 model with the CompareFiles protocol. W6A8 quantizes every linear's input with FQ6's A8 rule (SimulatedA8).
#
#   bench/scripts/quality-subscale-27M.sh [WINDOWS=100] [VARIANTS=<the final table's>] [REFCACHE=/tmp/fq6-refcache]
#
# VARIANTS: comma-separated LAYOUT:MODE, LAYOUT one of SubScaleLayout.KNOWN or q6_k, MODE a16 | a8 | a6.
# LAYOUT+gptq (e.g. s16x4o16+gptq:a8): GPTQ in that layout (SubScaleGptq), Hessians from 64 windows of the built-in
# calibration text as `flexq quantize` by default (JAVA_OPTS may set -Dflexq.gptq.windows / -Dflexq.gptq.calib=FILE).
# LAYOUT+sqALPHA (e.g. g128+gptq+sq0.3:a8): activation smoothing (flexq-plugin calib.Smoothing, as `flexq quantize
# --smooth ALPHA`) planned from the same calibration pass and folded in before quantizing; +sqcALPHA: unrounded factors.
# The ranking runs (10 windows) used every layout at a8. Needs JDK 25 (bin/find-java) and Maven.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/bin/find-java"
windows=${1:-100}
variants=${2:-g128:a8,g32:a8,s32x4:a8,s16x4:a8,s16x4o16:a16,s16x4o16:a8,q6_k:a8}
cache=${3:-/tmp/fq6-refcache}
shared="${FLEXQ_SHARED:-$here/../shared}"
(cd "$here" && mvn -q -B -ntp -Dflexq.nvcc.skip=true -DskipTests -pl samples -am package)
cp="$here/samples/target/classes:$(cat "$here/samples/target/classpath.txt")"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g ${JAVA_OPTS:-} -Dflexq.refcache="$cache" \
    -Dflexq.checkpoint=25 -cp "$cp" io.flexq.samples.bench.SubScaleQuality "$shared/models/flexq-ref-27M-f16.gguf" \
    "$shared/data/wikitext2-test.txt,$shared/data/refmodel-heldout.txt" "$windows" "$variants"
