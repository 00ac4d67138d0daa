#!/usr/bin/env bash
# Build-time kernel compile (run by Maven in the `kernels` module when nvcc is found): compiles flexq.cu + decoder.cu +
# hopper.cu (its wgmma bodies only for sm_90a) to one
# cubin per target into OUTDIR as io/flexq/kernels/flexq-<arch>.cubin, which the CUDA backend loads before
# falling back to NVRTC at run time (KernelModule). Same options as the run-time NVRTC compile (--std=c++17,
# default fmad), so both give the same bits. Targets: Ampere sm_80, sm_86; Ada sm_89; Hopper sm_90a.
set -euo pipefail
out="$1"
dir="$(cd "$(dirname "$0")" && pwd)/src/main/resources/io/flexq/kernels"
# one program: flexq.cu, decoder.cu, hopper.cu, newline-separated (as KernelModule concatenates them for NVRTC)
src="$(mktemp -d)/flexq-all.cu"
cat "$dir/flexq.cu" > "$src"; echo >> "$src"; cat "$dir/decoder.cu" >> "$src"; echo >> "$src"; cat "$dir/hopper.cu" >> "$src"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
if [ ! -x "$nvcc" ]; then
  echo "kernels: nvcc not found; the CUDA backend will compile the kernels with NVRTC at run time"
  exit 0
fi
mkdir -p "$out"
for arch in ${FLEXQ_CUDA_ARCHS:-sm_80 sm_86 sm_89 sm_90a}; do
  cubin="$out/flexq-$arch.cubin"
  [ "$cubin" -nt "$dir/flexq.cu" ] && [ "$cubin" -nt "$dir/decoder.cu" ] && [ "$cubin" -nt "$dir/hopper.cu" ] && [ "$cubin" -nt "$0" ] && continue   # up to date
  "$nvcc" -cubin -std=c++17 -arch="$arch" -o "$cubin" "$src"
done
echo "kernels: $("$nvcc" --version | tail -1 | tr -s ' ') built $(ls "$out" | grep -c cubin) cubins into $out"
