#!/usr/bin/env bash
# session 9 call C, prepared and NOT run (no device time was left): the final code, short (no llama.cpp build): GPU tests, decode b1 of the
# final code against the old 4-warp / 32-position attention, b8/b32, the attention trace, ncu stall reasons
set -o pipefail
G=$(pwd)/.gpu
xz -dkf $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz && rm $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz
cp models/stories260K.bin $G/shared/models/
cp tools/gpu/e2e-bench.sh $G/e2e-bench.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.decodeWarps=4,cuda.decodeChunk=32 default cuda.decodeWarps=4,cuda.decodeChunk=32 default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
STEPS=junit T_JUNIT=120 JUNIT_CLASSES="AttentionKernelsGpuTest CudaDecoderGpuTest" bash $G/e2e-bench.sh 2>&1 | tail -3
grep -E "✘" "$OUT/junit.log" | head -20
STEPS=fq6s BATCHES=8,32 VARIANTS="default" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
STEPS=profile bash $G/e2e-bench.sh 2>&1 | grep -E "^\| (started|past|scores|partials|counted|merger|merged|attention \(|\*\*all)|^The first|^Decode step replayed"
M=""; for r in no_instruction long_scoreboard short_scoreboard wait barrier membar branch_resolving lg_throttle math_pipe_throttle dispatch_stall; do M="$M,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"; done
timeout 60 ncu --clock-control none --cache-control none -k regex:dec_attention_hd128_w16 --launch-skip 100 --launch-count 1 --metrics "smsp__inst_executed.sum,sm__cycles_active.max,gpu__time_duration.sum$M" \
  /tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dflexq.cuda.cache=/tmp/fc -cp "$(for d in $G/classes/*/; do printf '%s:' "$d"; done)$(ls $G/lib/*.jar | grep -v console | tr '\n' ':')" \
  io.flexq.cuda.E2eBench synthetic-fq6:llama-3.1-8b:q8_0 "FQ6 under ncu" 512 8 1 1 > "$OUT/ncu-stalls.log" 2>&1; grep -E "smsp__|sm__|gpu__|==ERR|rror" "$OUT/ncu-stalls.log" | head -20
date -u
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
