#!/usr/bin/env bash
# For the H200 numbers of bench/results/jlama.md: lays out under .gpu-jlama/ (ignored by git, < 64 MiB) what the GPU
# host needs to run JlamaBench with flexq-cuda: a jlinked Java 25, the classes of runtime-adapter, flexq-plugin,
# kernels (flexq-cuda) and flexq-jlama (+ its test classes), JavaCPP/CUDA runtime jars, Jlama 0.8.4 and its
# dependencies, and the 27M fixtures (HF folder, Jlama Q4 folder). Then, on the device (carry [".gpu-jlama"]):
#   bash .gpu-jlama/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bin/find-java"
cd "$root"
g=.gpu-jlama
rm -rf "$g/classes" "$g/lib" "$g/models"; mkdir -p "$g/lib" "$g/classes" "$g/models"
export FLEXQ_SHARED="${FLEXQ_SHARED:-$root/../shared}"
mvn -q -B -ntp -DskipTests -pl kernels,runtime-adapter/flexq-jlama -am package test-compile dependency:copy-dependencies \
  -DincludeScope=test -DexcludeGroupIds=io.flexq,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian -DoutputDirectory="$root/$g/lib"
for m in runtime-adapter flexq-plugin kernels runtime-adapter/flexq-jlama; do
  n="$(basename "$m")"
  cp -r "$m/target/classes" "$g/classes/$n"
done
cp -r runtime-adapter/flexq-jlama/target/test-classes "$g/classes/flexq-jlama-test"
cp="$(ls -d "$g"/classes/* | tr '\n' ':')$(ls "$g"/lib/*.jar | tr '\n' ':')"
(cd runtime-adapter/flexq-jlama && java --add-modules jdk.incubator.vector -cp "$(echo "$cp" | sed "s#\.gpu-jlama#$root/.gpu-jlama#g")" io.flexq.jlama.FixturesMain >/dev/null 2>&1)
cp -r runtime-adapter/flexq-jlama/target/jlama-fixtures/flexq-ref-27M-f16 runtime-adapter/flexq-jlama/target/jlama-fixtures/flexq-ref-27M-f16-JQ4 "$g/models/"
if [ ! -f "$g/jre.tar.xz" ]; then
  rm -rf "$g/jre"
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,java.management,java.xml,jdk.zipfs,java.desktop,java.sql,java.naming,java.net.http \
    --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$g/jre"
  (cd "$g" && tar cJf jre.tar.xz jre && rm -rf jre)
fi
cat > "$g/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU host: Jlama F32, Jlama Q4 and FlexQ W6A8 (flexq-cuda when a GPU is there, else flexq-cpu) on the 27M model.
set -euo pipefail
g="$(cd "$(dirname "$0")" && pwd)"
[ -d "$g/jre" ] || (cd "$g" && tar xJf jre.tar.xz)
cp="$(ls -d "$g"/classes/* | tr '\n' ':')$(ls "$g"/lib/*.jar | tr '\n' ':')"
j=("$g/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -Djlama.force_panama_tensor_operations=true -cp "$cp")
nvidia-smi --query-gpu=name --format=csv,noheader || true; nproc; date -u
echo "| configuration | Jlama operations | prompt tok/s | decode tok/s | RSS MiB | heap MiB |"
echo "|---|---|---:|---:|---:|---:|"
"${j[@]}" io.flexq.jlama.bench.JlamaBench f32 "$g/models/flexq-ref-27M-f16" 128 64 3 2>/dev/null
"${j[@]}" io.flexq.jlama.bench.JlamaBench q4 "$g/models/flexq-ref-27M-f16-JQ4" 128 64 3 2>/dev/null
"${j[@]}" io.flexq.jlama.bench.JlamaBench flexq-a8 "$g/models/flexq-ref-27M-f16" 128 64 3 2>"$g/flexq-stderr.txt"
grep -h "backends\|flexq-jlama" "$g/flexq-stderr.txt" || true
RUN
du -sh "$g"
