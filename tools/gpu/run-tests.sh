#!/usr/bin/env bash
# On the GPU host, from the bundle made by tools/gpu/bundle.sh: runs every JUnit test of the CUDA backend
# (GPU-tagged included) and the whole conformance suite, whose backend list then includes flexq-cuda.
set -u
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
{ nvidia-smi; date -u; } > "$OUT/env.log" 2>&1
tar xJf "$G/jre.tar.xz" -C /tmp
cd "$G"
CP=$(for d in classes/*/; do printf '%s:' "$d"; done)$(ls lib/*.jar | grep -v console | tr '\n' ':')
J="/tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -Dflexq.cuda.cache=/tmp/flexq-cache -Dflexq.shared=$G/shared -Dflexq.home=$G/root -Dflexq.root=$G/root"
timeout ${T_JUNIT:-400} $J -jar lib/junit-platform-console-standalone-*.jar execute -cp "$CP" \
  --select-package io.flexq.cuda --select-package io.flexq.conformance \
  --details=tree --disable-banner --disable-ansi-colors > "$OUT/junit.log" 2>&1
echo "junit rc=$?"; grep -E "flexq-cuda|\[conformance\] backend" "$OUT/junit.log" | head -20; tail -16 "$OUT/junit.log"
