#!/bin/bash
# GPU-host run of everything CUDA (see bench/results/cuda-kernels-h200.md): from a bundle laid out as
#   run-gpu.sh jre.tar.xz lib/*.jar classes/{runtime-adapter,kernels,plugin,plugin-test} k/src/{main,test}/...
# 1. C++ harness: bit-exact kernel tests, NVRTC build check, benchmark vs cuBLAS -> dispatch table
# 2. Java (jlinked JRE): JUnit GPU tests of io.flexq.cuda, then CudaKernelBenchmark through JavaCPP
set -u
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
cd "$G/k/src/test/cuda"
{ nvidia-smi; nvcc --version; date -u; uname -a; } > "$OUT/env.log" 2>&1
chmod +x harness; ./harness > /dev/null 2>&1
if [ $? -ne 2 ]; then
  echo "carried harness does not run; building here" >> "$OUT/env.log"
  nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off -cudart static \
       -o harness harness.cu -ldl -lpthread >> "$OUT/env.log" 2>&1
fi
timeout ${T_TEST:-120} ./harness test > "$OUT/test.log" 2>&1; echo "harness test rc=$?"; grep -E "FAIL|TESTS" "$OUT/test.log" | tail -20
timeout ${T_NVRTC:-40} ./harness nvrtc ../../main/resources/io/flexq/kernels/flexq.cu >> "$OUT/env.log" 2>&1; tail -1 "$OUT/env.log"
timeout ${T_BENCH:-130} ./harness bench "$OUT/bench.csv" ${BENCH_FILTER:-} > "$OUT/bench.log" 2>&1; echo "harness bench rc=$?"; tail -2 "$OUT/bench.log"
python3 make_dispatch_table.py "$OUT/bench.csv" > "$OUT/dispatch-sm90.tsv"; wc -l "$OUT/dispatch-sm90.tsv"
cd "$G"
tar xJf jre.tar.xz -C /tmp
J="/tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -Dflexq.cuda.cache=/tmp/flexq-cache"
CP=classes/runtime-adapter:classes/kernels:classes/plugin:classes/plugin-test:$(ls lib/*.jar | grep -v console | tr '\n' ':')
timeout ${T_JUNIT:-170} $J -jar lib/junit-platform-console-standalone-*.jar execute -cp "$CP" --select-package io.flexq.cuda \
  --details=tree --disable-banner --disable-ansi-colors > "$OUT/junit.log" 2>&1; echo "junit rc=$?"; tail -16 "$OUT/junit.log"
timeout ${T_JBENCH:-120} $J -Dflexq.cuda.dispatch="$OUT/dispatch-sm90.tsv" -cp "$CP" io.flexq.cuda.CudaKernelBenchmark \
  "$OUT/java-bench.csv" > "$OUT/java-bench.log" 2>&1; echo "java bench rc=$?"; tail -4 "$OUT/java-bench.log"
