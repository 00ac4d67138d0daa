#!/bin/bash
# GPU-host run of the Java side only (bundle as in run-gpu.sh): JUnit GPU tests, JavaCPP benchmark, then an
# Nsight Compute profile and the SASS of the prefill and M=16 kernels (for the record in the results file).
set -u
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
{ nvidia-smi; date -u; } > "$OUT/env.log" 2>&1
cd "$G"
tar xJf jre.tar.xz -C /tmp
J="/tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -Dflexq.cuda.cache=/tmp/flexq-cache"
CP=classes/runtime-adapter:classes/kernels:classes/plugin:classes/plugin-test:$(ls lib/*.jar | grep -v console | tr '\n' ':')
timeout ${T_JUNIT:-200} $J -jar lib/junit-platform-console-standalone-*.jar execute -cp "$CP" --select-package io.flexq.cuda \
  --details=tree --disable-banner --disable-ansi-colors > "$OUT/junit.log" 2>&1; echo "junit rc=$?"; tail -15 "$OUT/junit.log"
timeout ${T_JBENCH:-150} $J -cp "$CP" io.flexq.cuda.CudaKernelBenchmark "$OUT/java-bench.csv" > "$OUT/java-bench.log" 2>&1
echo "java bench rc=$?"; tail -3 "$OUT/java-bench.log"
[ "${PROFILE:-1}" = 0 ] && exit 0
cd k/src/test/cuda; chmod +x harness
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
cuobjdump -sass -fun flexq_gemm_i8_64x128 harness > "$OUT/sass.txt" 2>&1
cuobjdump -sass -fun flexq_gemv_i8_nt2 harness >> "$OUT/sass.txt" 2>&1
for spec in "flexq_gemm_i8_64x128 4096 4096 4096 8" "flexq_gemv_i8_nt2 16 57344 8192 8"; do
  set -- $spec
  timeout 90 $NCU --clock-control none -k $1 --launch-skip 2 --launch-count 1 --section SpeedOfLight --section WarpStateStats \
    --section SchedulerStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section Occupancy \
    --section InstructionStats --section LaunchStats ./harness one $spec >> "$OUT/profile.txt" 2>&1
done
echo "profile lines: $(wc -l < "$OUT/profile.txt")"
