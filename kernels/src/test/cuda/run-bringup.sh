#!/bin/bash
# Device bring-up: run from the repo root on the GPU host with the harness and flexq.cu in .gpu/.
# Writes logs to $OUT. Builds the harness there if the carried binary does not run.
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
{ nvidia-smi; nvcc --version; date -u; uname -a; } > $OUT/env.log 2>&1
for l in libcublas.so libnvrtc.so libcuda.so.1; do ldconfig -p | grep $l | head -2; done >> $OUT/env.log 2>&1
find / -xdev \( -name 'libcublas.so*' -o -name 'libnvrtc.so*' \) 2>/dev/null | head -20 >> $OUT/env.log
export LD_LIBRARY_PATH=$(find / -xdev \( -name 'libcublas.so.13*' -o -name 'libnvrtc.so.13*' \) -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')$LD_LIBRARY_PATH
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >> $OUT/env.log
chmod +x ./harness
./harness >/dev/null 2>&1; if [ $? -ne 2 ]; then
  echo "carried harness does not run; building here" | tee -a $OUT/env.log
  nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off -cudart static \
     -o ./harness harness.cu -ldl -lpthread >> $OUT/env.log 2>&1
fi
timeout ${T_TEST:-240} ./harness test 2>&1 | tee $OUT/test.log | grep -E "FAIL|TESTS" | tail -40
timeout ${T_NVRTC:-90} ./harness nvrtc ../../main/resources/io/flexq/kernels/flexq.cu > $OUT/nvrtc.log 2>&1; tail -3 $OUT/nvrtc.log
timeout ${T_BENCH:-240} ./harness bench $OUT/bench.csv ${BENCH_FILTER:-} > $OUT/bench.log 2>&1; tail -5 $OUT/bench.log
