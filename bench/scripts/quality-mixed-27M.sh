#!/usr/bin/env bash
# Byte-budgeted mixed precision on the 27M reference model (bench/results/quality-ref27M.md, top section): the default
# FQ6 file (since issue 12's default budget: `--max-bytes q6_k` applied automatically where its analysis is bounded),
# the plain FQ6 file (`--max-bytes none`, the default before) and `flexq quantize --max-bytes q6_k` given explicitly
# (the linears that gain most per byte stored as Q8_0, the file no larger than llama.cpp's Q6_K file of the same model)
# against llama.cpp's Q6_K and Q8_0 files, all scored by this project's runtime against the F16 model on the same
# windows of both texts. The explicit file is compared with the default one (`cmp`) and scored only if they differ.
#
#   bench/scripts/quality-mixed-27M.sh [WINDOWS=100] [WORKDIR=/tmp/fq6-mixed] [EXTRA quantize flags for the explicit file...]
#
# llama.cpp's files: $LLAMA_FILES (a folder holding ref27M-Q6_K.gguf and ref27M-Q8_0.gguf, as
# bench/scripts/quality-whole-27M.sh makes them), else that script is run first with the same WORKDIR.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/bin/find-java"
windows=${1:-100}
work=${2:-/tmp/fq6-mixed}
shift $(( $# < 2 ? $# : 2 ))
shared="${FLEXQ_SHARED:-$here/../shared}"
model="$shared/models/flexq-ref-27M-f16.gguf"
mkdir -p "$work"

(cd "$here" && mvn -q -B -ntp -Dflexq.nvcc.skip=true -DskipTests -pl samples -am package)
cp="$here/samples/target/classes:$(cat "$here/samples/target/classpath.txt")"
java=(nice -n 10 "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -Dflexq.shared="$shared" -cp "$cp")

llama="${LLAMA_FILES:-$work}"
if [ ! -f "$llama/ref27M-Q6_K.gguf" ] || [ ! -f "$llama/ref27M-Q8_0.gguf" ]; then
  "$here/bench/scripts/quality-whole-27M.sh" 1 "$work" > /dev/null
  llama="$work"
fi

[ -f "$work/ref27M-fq6-default.gguf" ] || /usr/bin/time -v "${java[@]}" io.flexq.runtime.cli.Main quantize "$model" "$work/ref27M-fq6-default.gguf" \
    > "$work/quantize-default.log" 2>&1
[ -f "$work/ref27M-fq6-none.gguf" ] || /usr/bin/time -v "${java[@]}" io.flexq.runtime.cli.Main quantize "$model" "$work/ref27M-fq6-none.gguf" \
    --max-bytes none > "$work/quantize-none.log" 2>&1
[ -f "$work/ref27M-fq6-mixed.gguf" ] || /usr/bin/time -v "${java[@]}" io.flexq.runtime.cli.Main quantize "$model" "$work/ref27M-fq6-mixed.gguf" \
    --max-bytes q6_k "$@" > "$work/quantize-mixed.log" 2>&1

files=("$llama/ref27M-Q6_K.gguf" "$llama/ref27M-Q8_0.gguf" "$work/ref27M-fq6-default.gguf" "$work/ref27M-fq6-none.gguf")
if cmp "$work/ref27M-fq6-default.gguf" "$work/ref27M-fq6-mixed.gguf"; then
  echo "default file = explicit --max-bytes q6_k file $* (cmp: identical)"
else
  files+=("$work/ref27M-fq6-mixed.gguf")
fi
"${java[@]}" -Dflexq.refcache="$work/refcache" io.flexq.samples.bench.CompareFiles "$model" \
    "$shared/data/wikitext2-test.txt,$shared/data/refmodel-heldout.txt" "$windows" "${files[@]}" | tee "$work/table.md"
