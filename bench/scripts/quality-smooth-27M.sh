#!/usr/bin/env bash
# Activation smoothing (flexq quantize --smooth ALPHA) on the 27M reference model (bench/results/quality-ref27M.md,
# "Activation smoothing"). Three steps, each a separate process (run them one after the other on a small machine):
#
#   bench/scripts/quality-smooth-27M.sh sweep   # alpha on wikitext2-valid, 20 windows, W6A8 (+ W6A16 at 0 / 0.3)
#   bench/scripts/quality-smooth-27M.sh final   # both test texts, 100 windows: W6A8 / W6A16 / W6A6 with and without
#   bench/scripts/quality-smooth-27M.sh files [WINDOWS=25]   # real files through the integer kernels: default vs --smooth 0.3
#
# sweep/final use SubScaleQuality (linears dequantized to fp32, A8/A6 simulated with FQ6's own activation quantizer;
# GPTQ on the built-in calibration text as `flexq quantize` by default). REFCACHE (default /tmp/fq6-refcache) holds the
# F16 reference logits shared with the other quality scripts. Needs JDK 25 (bin/find-java) and Maven.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/bin/find-java"
step=${1:?sweep | final | files}
shared="${FLEXQ_SHARED:-$here/../shared}"
cache=${REFCACHE:-/tmp/fq6-refcache}
work=${WORKDIR:-/tmp/fq6-smooth}
mkdir -p "$work"
model="$shared/models/flexq-ref-27M-f16.gguf"
(cd "$here" && mvn -q -B -ntp -Dflexq.nvcc.skip=true -DskipTests -pl samples -am package)
cp="$here/samples/target/classes:$(cat "$here/samples/target/classpath.txt")"
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp "$cp")
case "$step" in
  sweep)
    "${java[@]}" -Dflexq.refcache="$cache" io.flexq.samples.bench.SubScaleQuality "$model" "$shared/data/wikitext2-valid.txt" 20 \
        g128+gptq:a8,g128+gptq+sq0.3:a8,g128+gptq+sq0.5:a8,g128+gptq+sq0.7:a8,g128+gptq:a16,g128+gptq+sq0.3:a16,g128+gptq+sq0:a8,g128+gptq+sq0.15:a8,g128+gptq+sqc0.15:a8,g128+gptq+sqc0.3:a8 ;;
  final)
    "${java[@]}" -Dflexq.refcache="$cache" -Dflexq.checkpoint=25 io.flexq.samples.bench.SubScaleQuality "$model" \
        "$shared/data/wikitext2-test.txt,$shared/data/refmodel-heldout.txt" 100 \
        g128+gptq:a8,g128+gptq+sq0.3:a8,g128+gptq:a16,g128+gptq+sq0.3:a16,g128+gptq:a6,g128+gptq+sq0.3:a6,s16x4o16+gptq+sq0.3:a8 ;;
  files)
    [ -f "$work/ref27M-fq6-default.gguf" ] || "${java[@]}" io.flexq.runtime.cli.Main quantize "$model" "$work/ref27M-fq6-default.gguf"
    [ -f "$work/ref27M-fq6-smooth03.gguf" ] || "${java[@]}" io.flexq.runtime.cli.Main quantize "$model" "$work/ref27M-fq6-smooth03.gguf" --smooth 0.3
    "${java[@]}" -Dflexq.refcache="$cache" io.flexq.samples.bench.CompareFiles "$model" \
        "$shared/data/wikitext2-test.txt,$shared/data/refmodel-heldout.txt" "${2:-25}" "$work/ref27M-fq6-default.gguf" "$work/ref27M-fq6-smooth03.gguf" ;;
  *) echo "unknown step $step (sweep | final | files)" >&2; exit 2 ;;
esac
