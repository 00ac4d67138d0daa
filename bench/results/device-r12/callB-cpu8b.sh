#!/usr/bin/env bash
# session 12, call B (carry .gpu): issue 13, the 16-core 8B decode rows for Q8_0 and F16 again, now with the cpu8b
# kernels (several accumulators a row, Q8_0 prefetch) that landed after session 11's 16-core run. Same protocol as
# device-r11/callD-cpu.sh: CPU-only llama.cpp, same files, prompt 512 then decode 16 at depth 512, alternating rounds.
T0=$(date +%s)
rm -rf /tmp/gpu && cp -r .gpu /tmp/gpu && cp bench/compare-llama-cpp.sh tools/gpu/cpu-vs-llamacpp.sh /tmp/gpu/
mkdir -p /tmp/e2e /tmp/cpu-bench
[ -f /tmp/e2e/m-f16.gguf ] || setsid bash -c "python3 /tmp/gpu/synth_gguf.py llama-3.1-8b /tmp/e2e/m-f16.part > /tmp/synth.log 2>&1 && mv /tmp/e2e/m-f16.part /tmp/e2e/m-f16.gguf" < /dev/null > /dev/null 2>&1 &
# the FQ6 pair is not rerun (its kernels did not change): an empty placeholder stops the script from quantizing one
[ -f /tmp/cpu-bench/llama-3.1-8b-fq6-a8.gguf ] || touch /tmp/cpu-bench/llama-3.1-8b-fq6-a8.gguf
# build llama.cpp (CPU only) while the F16 file is written: a run of the script with no shape builds it and stops
OUT=$OUT SHAPES=none KERNELS=0 bash /tmp/gpu/cpu-vs-llamacpp.sh > /tmp/lbuild.txt 2>&1; grep -E "llama.cpp|stage" /tmp/lbuild.txt
for i in $(seq 1 80); do [ -f /tmp/e2e/m-f16.gguf ] && break; sleep 3; done; ls -la /tmp/e2e; echo "[$(( $(date +%s) - T0 )) s]"
left=$(( 580 - ($(date +%s) - T0) ))
OUT=$OUT SHAPES=llama-3.1-8b PROMPT_8B=512 DECODE_8B=16 ROUNDS_8B=${ROUNDS_8B:-2} PAIRS_8B="${PAIRS_8B:-q8 f16}" BUDGET=$left KERNELS=0 \
  bash /tmp/gpu/cpu-vs-llamacpp.sh > /dev/null 2>&1
mv "$OUT/cpu-vs-llamacpp.txt" "$OUT/cpu-16c-8b-r12.txt"; grep -E "^\||\[stage\]|ratio|median" "$OUT/cpu-16c-8b-r12.txt" | tail -30
echo "[$(( $(date +%s) - T0 )) s]"; uptime
