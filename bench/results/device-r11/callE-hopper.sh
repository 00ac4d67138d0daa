#!/usr/bin/env bash
# session 11, call E (no carry): issue 10's hopper-check with the _su/_sur configs (first GPU run of them), the 8B and
# 70B gate+up shapes first.
OUT=$OUT SHAPES="${SHAPES:-8B-gateup 70B-gateup 8B-down 70B-down}" bash tools/gpu/hopper-check.sh 2>&1 | tail -150
