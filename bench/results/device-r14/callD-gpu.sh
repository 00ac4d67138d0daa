#!/usr/bin/env bash
# session 14, call D (carry .gpu, the lean bundle of 40d8b15 with its sm_90a cubin; /tmp/m27 from a call carrying
# .gpu27 just before): issue 10, the wgmma kernels under programmatic dependent launch.
#  1. GPU tests: CudaWgmmaGpuTest (new: the quantizer then the wgmma kernel under programmatic launch), Ref27MGpuTest
#     (now bounds the host-device KLD itself), CudaDecoderGpuTest
#  2. the two tests the fix concerns with the cubin of 5cc9160 (before the fix) first on the class path: both must fail
#  3. 8B synthetic FQ6 W6A8 prefill-512 and decode, wgmma path on and off (-Dflexq.cuda.wgmma=false), alternating
set -o pipefail
G=$(pwd)/.gpu; T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
for c in $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz $G/old-pdl/io/flexq/kernels/flexq-sm_90a.cubin.xz; do
  [ -f $c ] && xz -df $c
done
cp models/stories260K.bin $G/shared/models/ 2>/dev/null
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; date -u; ls /tmp/m27
STEPS=junit T_JUNIT=300 JUNIT_CLASSES="CudaWgmmaGpuTest Ref27MGpuTest CudaDecoderGpuTest" bash $G/e2e-bench.sh > /dev/null 2>&1
grep -E "✘|\[decoder\]|tests (succ|fail)|skipped" $OUT/junit.log | cut -c1-400 | head -40; el "tests"
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
CP=$(for d in "$G"/classes/*/; do printf '%s:' "$d"; done)$(ls "$G"/lib/*.jar | grep -v console | tr '\n' ':')
timeout 200 /tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -Dflexq.cuda.cache=/tmp/fc-old \
  -Dflexq.shared=$G/shared -Dflexq.home=$(pwd) -jar $G/lib/junit-platform-console-standalone-*.jar execute -cp "$G/old-pdl:$CP" \
  --select-method io.flexq.cuda.CudaWgmmaGpuTest#underProgrammaticLaunchTheWgmmaKernelsReadTheRecordsTheQuantizerFinished \
  --select-method io.flexq.cuda.Ref27MGpuTest#theKldAgainstF16OnTheDeviceEqualsTheHostFigure \
  --details=tree --disable-banner --disable-ansi-colors > $OUT/junit-old-cubin.log 2>&1
grep -E "✘|\[decoder\]|launches differ|KLD between|launch [0-9]|prebuilt|tests (succ|fail)" $OUT/junit-old-cubin.log | cut -c1-300 | head -24; el "old cubin"
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.wgmma=false default cuda.wgmma=false" bash $G/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"; el "8B"
date -u
