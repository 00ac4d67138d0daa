#!/usr/bin/env bash
# Lays out everything the GPU host needs to run the project's tests under .gpu/ (ignored by git):
# a jlinked Java 25 runtime (the host has no Java), the compiled classes and test classes of every module,
# the runtime jars (JavaCPP + CUDA presets), the JUnit console launcher, and the small shared models the
# end-to-end conformance tests read. Then: device run with carry [".gpu"], command `bash .gpu/run-tests.sh`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/bin/find-java"
cd "$root"
g=.gpu
mkdir -p "$g/lib" "$g/classes" "$g/shared/models"
mvn -q -B -ntp -DskipTests -pl kernels,conformance-tests -am package dependency:copy-dependencies \
  -DincludeScope=runtime -DexcludeGroupIds=io.flexq -DoutputDirectory="$root/$g/lib"
mvn -q -B -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 -DoutputDirectory="$root/$g/lib"
for m in runtime-adapter kernels flexq-plugin conformance-tests; do
  rm -rf "$g/classes/$m" "$g/classes/$m-test"
  cp -r "$m/target/classes" "$g/classes/$m"
  [ -d "$m/target/test-classes" ] && cp -r "$m/target/test-classes" "$g/classes/$m-test"
done
# the fuzz corpora (8.7 MB of test resources) are not run on the GPU host and would eat the 64 MiB carry limit
rm -rf "$g/classes/runtime-adapter-test/io/flexq/runtime/fuzz"
mkdir -p "$g/root/models"; cp models/stories260K.bin models/tok512.bin "$g/root/models/"
src="${FLEXQ_SHARED:-$root/../shared}"
cp "$src"/models/stories260K* "$src"/models/tok512.bin "$g/shared/models/"
if [ ! -f "$g/jre.tar.xz" ]; then
  rm -rf "$g/jre"
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,java.management,jdk.management,java.xml,jdk.zipfs,jdk.httpserver,java.net.http \
    --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$g/jre"
  (cd "$g" && tar cJf jre.tar.xz jre && rm -rf jre)
fi
cp tools/gpu/run-tests.sh tools/gpu/e2e-bench.sh "$g/"
# GPU end-to-end benchmark (bash .gpu/e2e-bench.sh) reads the anchors (synthetic GGUF writer, llama.cpp source) here
mkdir -p "$g/anchors"; cp "$src"/bench-anchors/* "$g/anchors/"
# CPU comparison with llama.cpp (bash .gpu/cpu-vs-llamacpp.sh): the scripts, the synthetic GGUF writer, llama.cpp's source
cp tools/gpu/cpu-vs-llamacpp.sh tools/gpu/cpu-8b-table.sh bench/compare-llama-cpp.sh "$src"/bench-anchors/synth_gguf.py "$src"/bench-anchors/llama.cpp-src.tar.xz "$g/"
# FLEXQ_BUNDLE=lean: the decoder session recipe (docs/GPU-DECODER.md's benchmarks, with tools/gpu/bundle-27m.sh's
# .gpu27 carrying the llama.cpp source and the 27M files in a first call): no llama.cpp tarballs here, no conformance
# or flexq-plugin test classes (the kernels' GPU tests use neither), no cubins but those of FLEXQ_CUDA_ARCHS, two
# stories260K files fewer and no root/ (flexq.home); the carry (this folder plus the tracked files) must stay under 64,000,000 bytes.
if [ "${FLEXQ_BUNDLE:-}" = lean ]; then
  rm -f "$g/llama.cpp-src.tar.xz" "$g/anchors/llama.cpp-src.tar.xz" "$g"/shared/models/stories260K-{q8_0,f16}.gguf
  rm -rf "$g"/classes/conformance-tests* "$g/classes/flexq-plugin-test" "$g/root"   # root: e2e-bench.sh then uses the checkout's models/
  for c in "$g"/classes/kernels/io/flexq/kernels/flexq-*.cubin; do
    arch=$(basename "$c" .cubin); arch=${arch#flexq-}
    case ",${FLEXQ_CUDA_ARCHS:-$arch}," in *",$arch,"*) ;; *) rm -f "$c";; esac
  done
  tracked=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
  echo "carry: $(du -sb "$g" | cut -f1) + $tracked tracked = $(( $(du -sb "$g" | cut -f1) + tracked )) bytes (limit 64,000,000)"
fi
du -sh "$g"
