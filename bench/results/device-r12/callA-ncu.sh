#!/usr/bin/env bash
# session 12, call A (no carry): issue 10, where the round-1 wgmma kernels lose their time (ncu --set full, stall
# reasons and per-SASS stall samples) at the 8B gate+up shape, M = 4096.
OUT=$OUT bash tools/gpu/hopper-ncu.sh 2>&1 | tail -150
