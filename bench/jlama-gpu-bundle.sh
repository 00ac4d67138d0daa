#!/usr/bin/env bash
# For the GPU rows of bench/results/jlama.md: lays out, ignored by git, what the GPU host needs to run JlamaBench
# (Jlama F32, Jlama Q4, FlexQ W6A8 on flexq-cpu and on flexq-cuda) on the 27M model. The device carries at most
# 64 MiB a call with the repository, and the model's HF folder alone is 56 MiB, so it travels in a call of its own:
#   .gpu-jlama-model/   the 27M HF folder (F16 safetensors xz-compressed, config, tokenizer)          ~47 MiB
#   .gpu-jlama/         jlinked Java 25, classes (runtime-adapter, flexq-plugin, flexq-cuda with its cubins,
#                       flexq-jlama and its test classes, flexq-cuda's test classes), runtime jars (Jlama 0.8.4,
#                       JavaCPP/CUDA, JUnit console), run.sh                                             <= 50 MiB
# Then two device runs back to back (the machine keeps /tmp while warm, 30 s after a call):
#   1. carry [".gpu-jlama-model"]: rm -rf /tmp/jlama-model && cp -r .gpu-jlama-model /tmp/jlama-model &&
#      xz -d /tmp/jlama-model/*/model.safetensors.xz && ls -l /tmp/jlama-model/*
#   2. carry [".gpu-jlama"]:       bash .gpu-jlama/run.sh
# run.sh runs CudaRowRangeGpuTest, makes Jlama's Q4 folder (Jlama's own quantizer, seconds) and prints the table rows
# (about 3-6 min; it stops starting rows at 500 s).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bin/find-java"
cd "$root"
g=.gpu-jlama
rm -rf "$g/classes" "$g/classes.tar.xz" "$g/lib" "$g/jre.tar.xz" .gpu-jlama-model; mkdir -p "$g/lib" "$g/classes" .gpu-jlama-model
export FLEXQ_SHARED="${FLEXQ_SHARED:-$root/../shared}"
[ -d "$FLEXQ_SHARED" ] || FLEXQ_SHARED=/work/shared
# kernels with nvcc (no -Dflexq.nvcc.skip): prebuilt cubins, so the GPU host needs no NVRTC compile
mvn -q -B -ntp -DskipTests -pl kernels,runtime-adapter/flexq-jlama -am test-compile dependency:copy-dependencies \
  -DincludeScope=test -DexcludeGroupIds=io.flexq,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian -DoutputDirectory="$root/$g/lib"
for m in runtime-adapter flexq-plugin kernels runtime-adapter/flexq-jlama; do
  cp -r "$m/target/classes" "$g/classes/$(basename "$m")"
done
cp -r runtime-adapter/flexq-jlama/target/test-classes "$g/classes/flexq-jlama-test"
# the row-range GPU test (CudaRowRangeGpuTest) runs first in run.sh: kernels' test classes and the JUnit launcher
cp -r kernels/target/test-classes "$g/classes/kernels-test"
mvn -q -B -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 -DoutputDirectory="$root/$g/lib"
# the H100/H200 are sm_90: the other cubins would only eat the carry (another GPU compiles flexq.cu with NVRTC)
rm -f "$g"/classes/kernels/io/flexq/kernels/flexq-sm_8*.cubin
# jlama-core's OpenAI client (76 MB) and what only it uses: JlamaBench never loads them (checked by running run.sh
# on the CPU with this class path)
rm -f "$g"/lib/openai-java*.jar "$g"/lib/okhttp-*.jar "$g"/lib/okio-*.jar "$g"/lib/kotlin-*.jar "$g"/lib/jackson-module-kotlin-*.jar
# jemoji (4.6 MB) serves Jlama's GPT-2 tokenizer only; the 27M model is a Llama
rm -f "$g"/lib/jemoji-*.jar
# the fixtures' HF folder (our converter, from ../shared/models/flexq-ref-27M-f16.gguf); made here if missing
cp="$(ls -d "$root/$g"/classes/* | tr '\n' ':')$root/runtime-adapter/target/test-classes:$(ls "$root/$g"/lib/*.jar | tr '\n' ':')"
hf=runtime-adapter/flexq-jlama/target/jlama-fixtures/flexq-ref-27M-f16
if [ ! -f "$hf/model.safetensors" ]; then
  (cd runtime-adapter/flexq-jlama && java --add-modules jdk.incubator.vector -cp "$cp" io.flexq.jlama.FixturesMain >/dev/null)
fi
cp -r "$hf" .gpu-jlama-model/flexq-ref-27M-f16
# the safetensors travel xz-compressed (58.8 -> 49.1 MB): with the repository's tracked files (14 MB) the plain folder
# is over the 64 MiB carry; call 1 unpacks it into /tmp/jlama-model
xz -6 -T2 -f .gpu-jlama-model/flexq-ref-27M-f16/model.safetensors
# classes (cubin, sources) shrink 5x in xz; the jars are zips already
(cd "$g" && tar cJf classes.tar.xz classes && rm -rf classes)
# Java 25 for a host without one: uncompressed jlink image, then xz (2x smaller than jlink's zip-9 in xz); java.desktop
# stays, Jlama's Jackson/Jinjava load java.beans
if [ ! -f "$g/jre-jlama.tar.xz" ]; then
  rm -rf "$g/jre" "$g/jre.tar.xz"
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,java.management,java.xml,jdk.zipfs,java.desktop,java.sql,java.naming,java.net.http \
    --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$g/jre"
  (cd "$g" && tar cJf jre-jlama.tar.xz jre && rm -rf jre)
fi
cp bench/jlama-gpu-run.sh "$g/run.sh"
du -sh "$g" .gpu-jlama-model
for d in "$g" .gpu-jlama-model; do
  mib=$(( $(du -sb "$d" | cut -f1) / 1048576 ))
  limit=$([ "$d" = "$g" ] && echo 50 || echo 60)
  [ "$mib" -le "$limit" ] || { echo "jlama-gpu-bundle: $d is $mib MiB, over $limit MiB (device carry limit 64 MiB with the repository)" >&2; exit 1; }
done
