#!/usr/bin/env bash
# session 12, call F (no carry): issue 10, activations by TMA (one box per group instead of TOKS * 8 16-byte copies):
# the `_tma` configs' exactness and speed against their twins (hopper_test tma), and the Java program through NVRTC
# (sm_90a and sm_80: the NAN fix and the new entry points).
T0=$(date +%s)
for d in /usr/local/cuda-13.0 /usr/local/cuda; do [ -x "$d/bin/nvcc" ] && { export PATH=$d/bin:$PATH; export LD_LIBRARY_PATH=$d/lib64:$d/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}; break; }; done
W=/tmp/hopper-build; mkdir -p $W; B=$W/hopper_test; K=kernels/src/main/resources/io/flexq/kernels
( cd kernels/src/test/cuda && nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off -cudart static \
    -o $B hopper_test.cu -ldl -lpthread ) > $OUT/build.log 2>&1 || { echo BUILD FAILED; grep -m5 error $OUT/build.log; }
echo "built [$(( $(date +%s) - T0 )) s]"
timeout 200 $B tma > $OUT/tma.log 2>&1; echo "tma rc=$? [$(( $(date +%s) - T0 )) s]"
grep -E "^TMA|FAIL|CUDA-ERROR" $OUT/tma.log | head -20
{ cat $K/flexq.cu; echo; cat $K/decoder.cu; echo; cat $K/hopper.cu; } > $W/program.cu
for a in sm_90a sm_80; do timeout 120 $B nvrtc $W/program.cu $a 2>&1 | grep -E "NVRTC|error|missing" | head -5; done
echo "[$(( $(date +%s) - T0 )) s]"
