# Sourced by the hopper-*.sh scripts (GPU host): ROOT, OUT (default $1), START and el (seconds since), CUDA on PATH
# and LD_LIBRARY_PATH, T (the harness sources), W (build products: WORK, default /tmp/hopper-build).
ROOT=$(cd "$(dirname "${BASH_SOURCE[1]}")/../.." && pwd)
OUT=${OUT:-$1}; mkdir -p "$OUT"
START=$(date +%s)
el() { echo $(( $(date +%s) - START )); }
for d in /usr/local/cuda-13.0 /usr/local/cuda /usr/local/cuda-13; do [ -x "$d/bin/nvcc" ] && { CUDA=$d; break; }; done
CUDA=${CUDA:-$(dirname "$(dirname "$(command -v nvcc)")")}
export PATH=$CUDA/bin:$PATH
export LD_LIBRARY_PATH=$CUDA/lib64:$CUDA/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
T=$ROOT/kernels/src/test/cuda
W=${WORK:-/tmp/hopper-build}; mkdir -p "$W"
