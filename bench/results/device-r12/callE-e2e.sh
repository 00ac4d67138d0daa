#!/usr/bin/env bash
# session 12, call E (carry .gpu, its dispatch-sm90-wg.tsv replaced by the one with the 8B qkv and o rows measured in
# call D's lease): prefill-512 / decode of the 8B synthetic model, wgmma on and off, alternating.
G=$(pwd)/.gpu
[ -f $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz ] && xz -dkf $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz && rm $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz
cp tools/gpu/e2e-bench.sh $G/e2e-bench.sh
grep -v "^#" $G/classes/kernels/io/flexq/cuda/dispatch-sm90-wg.tsv | wc -l
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.wgmma=false default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
date -u
