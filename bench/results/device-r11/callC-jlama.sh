#!/usr/bin/env bash
# session 11, call C (carry .gpu-jlama), after call B put the 27M HF folder in /tmp/jlama-model: issue 9's GPU rows
# (bench/jlama-gpu-run.sh). The prep of call A may still run at nice 19 beside it: its progress and the load are printed.
[ -f /tmp/prep.log ] && { echo "prep so far:"; grep "\[stage\]" /tmp/prep.log | tail -3; }; uptime
JLAMA_ROWRANGE_TEST=1 OUT=$OUT bash .gpu-jlama/run.sh
[ -f /tmp/prep.log ] && { echo "prep now:"; grep "\[stage\]" /tmp/prep.log | tail -3; }; uptime
