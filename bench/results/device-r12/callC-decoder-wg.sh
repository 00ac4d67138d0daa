#!/usr/bin/env bash
# session 12, call C (carry .gpu): issue 10, the wgmma kernels in the decoder's prompt path (I8 tiles, natural-order
# records): the harness' exactness run (every config also on the I8 tiles + natural records) in the background, the
# decoder GPU tests (new: a 200-token FQ6 prompt takes the wgmma kernels within the bounds), then the 8B synthetic
# model, prefill-512 and decode, wgmma on and off (-Dflexq.cuda.wgmma=false), alternating, and the stage profile.
set -o pipefail
G=$(pwd)/.gpu
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s]"; }
[ -f $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz ] && xz -dkf $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz && rm $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz
cp models/stories260K.bin $G/shared/models/ 2>/dev/null
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u
( W=/tmp/hopper-build; mkdir -p $W; cd kernels/src/test/cuda && nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off \
    -cudart static -o $W/hopper_test hopper_test.cu -ldl -lpthread > $OUT/hopper-build.log 2>&1 && \
  timeout 200 $W/hopper_test test $($W/hopper_test list) > $OUT/hopper-test.log 2>&1; echo "hopper test rc=$?" >> $OUT/hopper-test.log ) &
HT=$!
cp tools/gpu/e2e-bench.sh $G/e2e-bench.sh
STEPS=junit T_JUNIT=240 JUNIT_CLASSES="CudaDecoderGpuTest CudaWgmmaGpuTest" bash $G/e2e-bench.sh 2>&1 | tail -3
grep -E "✘|200-token|tests (succ|fail)" "$OUT/junit.log" | head -20; el
wait $HT; grep -E "^TEST|natural-order|rc=" $OUT/hopper-test.log | sort | uniq -c | sort -rn | head -30; grep -m3 FAIL $OUT/hopper-test.log | cut -c1-250; el
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.wgmma=false default cuda.wgmma=false" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el
if [ $(( $(date +%s) - T0 )) -lt ${PROFILE_BEFORE:-420} ]; then
  for v in default wgmma=false; do
    f=""; [ "$v" = default ] || f="-Dflexq.cuda.$v"
    echo "== profile $v"
    JFLAGS="$f" PROFILE=1,512,4 PROFILE_TAG="-$v" STEPS=profile bash $G/e2e-bench.sh 2>&1 | grep -E "matmul|^\| \*\*all|prefill" | head -24
  done; el
fi
date -u
