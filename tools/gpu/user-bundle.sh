#!/usr/bin/env bash
# Makes dist/flexq-gpu.tar.xz: everything a GPU host without Java needs to run `flexq` on the GPU: a jlinked Java 25
# runtime, the jars (runtime, FlexQ plugin, flexq-cuda with its prebuilt cubins, JavaCPP + CUDA presets, picocli,
# Jackson), the bundled stories260K model and a launcher. On the host (NVIDIA driver and CUDA 13 libraries present):
#   tar xJf flexq-gpu.tar.xz && flexq-gpu/flexq chat --model MODEL.gguf
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/bin/find-java"
cd "$root"
out=dist/flexq-gpu
rm -rf "$out" && mkdir -p "$out/lib" "$out/models"
mvn -q -B -ntp -DskipTests -pl kernels -am package dependency:copy-dependencies \
  -DincludeScope=runtime -DexcludeGroupIds=io.flexq -DoutputDirectory="$root/$out/lib"
for m in runtime-adapter flexq-plugin kernels; do
  for j in "$m"/target/*.jar; do
    case "$j" in *-sources.jar|*-tests.jar) ;; *) cp "$j" "$out/lib/" ;; esac
  done
done
cp models/stories260K.bin models/tok512.bin models/README.md "$out/models/"
cp LICENSE NOTICE THIRD-PARTY-NOTICES "$out/" 2>/dev/null || true
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,java.management,jdk.management,java.xml,jdk.zipfs,jdk.httpserver,java.net.http \
  --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$out/jre"
cat > "$out/flexq" <<'LAUNCH'
#!/usr/bin/env bash
# flexq on a GPU host, with the bundled Java runtime. JVM options: JAVA_OPTS (e.g. -Xmx64g for large models).
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
exec "$here/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dflexq.home="$here" \
  ${JAVA_OPTS:-} -cp "$here/lib/*" io.flexq.runtime.cli.Main "$@"
LAUNCH
chmod +x "$out/flexq"
(cd dist && tar cJf flexq-gpu.tar.xz flexq-gpu)
du -sh dist/flexq-gpu.tar.xz
