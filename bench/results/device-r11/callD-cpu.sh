#!/usr/bin/env bash
# session 11, call D (carry .gpu), on the machine warm from calls B, C, E: first the exactness lines of call E's
# hopper-check (its logs did not all come back), then issue 13's 16-core table: ours vs llama-bench -t 16 -ngl 0 on the
# same files, alternating rounds, prefill-512 and decode after it at the same depth. The 8B synthetic F16 file is
# written in the background while llama.cpp builds and the 27M rows (random weights of its shape) run.
T0=$(date +%s)
echo "== call E's exactness lines"; grep -hE "PASS|FAIL|passed|failed|PROBE|joint" /root/out/test-all-su.log /root/out/probe.log 2>/dev/null | head -30
cp /root/out/test-all-su.log /root/out/probe.log /root/out/hopper-tables.md "$OUT/" 2>/dev/null
rm -rf /tmp/gpu && cp -r .gpu /tmp/gpu && cp bench/compare-llama-cpp.sh tools/gpu/cpu-vs-llamacpp.sh /tmp/gpu/
mkdir -p /tmp/e2e
setsid bash -c "python3 /tmp/gpu/synth_gguf.py llama-3.1-8b /tmp/e2e/m-f16.part > /tmp/synth.log 2>&1 && mv /tmp/e2e/m-f16.part /tmp/e2e/m-f16.gguf" < /dev/null > /dev/null 2>&1 &
OUT=$OUT SHAPES=ref-27m PROMPT=512 ROUNDS_27M=5 BUDGET=280 KERNELS=0 bash /tmp/gpu/cpu-vs-llamacpp.sh > /dev/null 2>&1
mv "$OUT/cpu-vs-llamacpp.txt" "$OUT/cpu-16c-27m.txt"; grep -E "^\||\[stage\]|ratio|median" "$OUT/cpu-16c-27m.txt" | tail -30
for i in $(seq 1 60); do [ -f /tmp/e2e/m-f16.gguf ] && break; sleep 3; done; ls -la /tmp/e2e; echo "[$(( $(date +%s) - T0 )) s]"
left=$(( 575 - ($(date +%s) - T0) ))
OUT=$OUT SHAPES=llama-3.1-8b PROMPT_8B=512 DECODE_8B=16 ROUNDS_8B=2 PAIRS_8B="fq6 q8" BUDGET=$left KERNELS=0 bash /tmp/gpu/cpu-vs-llamacpp.sh > /dev/null 2>&1
mv "$OUT/cpu-vs-llamacpp.txt" "$OUT/cpu-16c-8b.txt"; grep -E "^\||\[stage\]|ratio|median" "$OUT/cpu-16c-8b.txt" | tail -30
echo "[$(( $(date +%s) - T0 )) s]"; uptime
