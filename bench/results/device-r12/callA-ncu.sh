#!/usr/bin/env bash
# session 12, call A (no carry): issue 10, where the round-1 wgmma kernels lose their time at the 8B gate+up shape:
# the parts' costs (hopper-diag.sh: the kernels without the epilogue arithmetic / without waiting for memory), then
# ncu --set full with stall reasons and per-SASS stall samples at M = 4096.
OUT=$OUT bash tools/gpu/hopper-diag.sh 2>&1 | tail -60
OUT=$OUT bash tools/gpu/hopper-ncu.sh 2>&1 | tail -120
