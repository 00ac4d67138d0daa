#!/usr/bin/env bash
# session 12, call D (no carry): issue 10, do the mbarrier spin loops cost issue slots? The real kernels (the
# diagnostics' three configs) built without the watchdog's counter, and without it plus a 1 ms suspend-time hint on
# try_wait, timed against the full build, two alternating rounds, 8B gate+up. (Ran at 1bcb228; the
# FLEXQ_HOPPER_SUSPEND_NS flag was removed afterwards, since it changed nothing: hopper-gemm-h100.md round 3.)
OUT=$OUT DIAG_ROUNDS="1 2" DIAG_MS=1024,4096 \
  DIAG_BUILDS="nowd=-DFLEXQ_HOPPER_DIAG=4 -DFLEXQ_HOPPER_NO_WATCHDOG;susp=-DFLEXQ_HOPPER_DIAG=4 -DFLEXQ_HOPPER_NO_WATCHDOG -DFLEXQ_HOPPER_SUSPEND_NS=1000000" \
  bash tools/gpu/hopper-diag.sh 2>&1 | grep -v cublas | tail -60
