#!/usr/bin/env bash
# Jlama 0.8.4 on CPU: F32 (Panama) vs Jlama's own Q4 vs FlexQ W6A8 (library route), prompt and decode tokens/s and
# memory, one JVM per configuration, on the 27M reference model. Usage: bench/jlama-bench.sh [PROMPT DECODE REPEATS]
# (default 128 64 3). Builds the test classes and the fixtures (HF folder, Jlama Q4 folder, FQ6 file) first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/bin/find-java"
cd "$here"
export FLEXQ_SHARED="${FLEXQ_SHARED:-$(cd "$here/.." && pwd)/shared}"
[ -d "$FLEXQ_SHARED" ] || FLEXQ_SHARED=/work/shared
# one reactor run: test classes, then each module's class path (flexq-jlama's is written last)
mvn -q -B -ntp -Dflexq.nvcc.skip=true -pl runtime-adapter/flexq-jlama -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=/tmp/flexq-jlama-cp.txt -Dmdep.includeScope=test >/dev/null
m="$here/runtime-adapter/flexq-jlama"
cp="$m/target/test-classes:$m/target/classes:$(cat /tmp/flexq-jlama-cp.txt)"
(cd $m && java --add-modules jdk.incubator.vector -cp "$cp" io.flexq.jlama.FixturesMain >/dev/null 2>&1)
fx=$m/target/jlama-fixtures/flexq-ref-27M-f16
args=(${1:-128} ${2:-64} ${3:-3})
java_opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx2g -Djlama.force_panama_tensor_operations=true)
echo "| configuration | Jlama operations | prompt tok/s | decode tok/s | RSS MiB | heap MiB |"
echo "|---|---|---:|---:|---:|---:|"
java "${java_opts[@]}" -cp "$cp" io.flexq.jlama.bench.JlamaBench f32 "$fx" "${args[@]}" 2>/dev/null
java "${java_opts[@]}" -cp "$cp" io.flexq.jlama.bench.JlamaBench q4 "$fx-JQ4" "${args[@]}" 2>/dev/null
java "${java_opts[@]}" -cp "$cp" io.flexq.jlama.bench.JlamaBench flexq-a8 "$fx" "${args[@]}" 2>/dev/null
java "${java_opts[@]}" -cp "$cp" io.flexq.jlama.bench.JlamaBench flexq-a8-file "$fx" "${args[@]}" 2>/dev/null
