#!/usr/bin/env bash
# session 14, calls E and F (carry .gpu): the new programmatic-launch test with the fixed cubin of 40d8b15 (must pass)
# and with 5cc9160's cubin first on the class path (must fail). Call E ran the version with the stand-alone quantizer
# as the producer (passed on both cubins); call F this one, the RMSNorm kernel as the producer.
G=$(pwd)/.gpu
for c in $G/classes/kernels/io/flexq/kernels/flexq-sm_90a.cubin.xz $G/old-pdl/io/flexq/kernels/flexq-sm_90a.cubin.xz; do
  [ -f $c ] && xz -df $c
done
[ -x /tmp/jre/bin/java ] || tar xJf "$G/jre.tar.xz" -C /tmp
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
CP=$(for d in "$G"/classes/*/; do printf '%s:' "$d"; done)$(ls "$G"/lib/*.jar | grep -v console | tr '\n' ':')
for v in fixed old; do
  pre=""; [ $v = old ] && pre="$G/old-pdl:"
  echo "== cubin: $v"
  timeout 200 /tmp/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -Dflexq.cuda.cache=/tmp/fc-$v \
    -jar $G/lib/junit-platform-console-standalone-*.jar execute -cp "$pre$CP" \
    --select-method io.flexq.cuda.CudaWgmmaGpuTest#underProgrammaticLaunchTheWgmmaKernelsReadTheRecordsTheNormFinished \
    --details=tree --disable-banner --disable-ansi-colors > $OUT/junit-pdl-$v.log 2>&1
  grep -E "✘|✔|launch [0-9]|tests (succ|fail)" $OUT/junit-pdl-$v.log | cut -c1-200 | head -12
done
