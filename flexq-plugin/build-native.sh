#!/usr/bin/env bash
# Build-time native compile (run by Maven in flexq-plugin, phase process-resources): src/main/c/*.c into one shared
# library, OUTDIR/native/linux-x86_64/libflexq_cpu.so, which the jar carries and NativeFq6 loads through the FFM API.
# One library for every x86-64 CPU: the AVX2 and AVX-512 VNNI code paths are chosen at run time (CPUID), so no
# -march here. Without gcc, or on another OS/architecture, it builds nothing and the Vector API kernels run.
# -ffp-contract=off: the FQ6 epilogue is a multiply then an add, never fused (docs/FQ6.md, section 5).
set -euo pipefail
out="$1/native/linux-x86_64"
src="$(cd "$(dirname "$0")" && pwd)/src/main/c"
cc="${CC:-gcc}"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "flexq-plugin: no native kernels for $(uname -s)-$(uname -m); the Vector API kernels will run"
  exit 0
fi
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "flexq-plugin: $cc not found; the Vector API kernels will run"
  exit 0
fi
lib="$out/libflexq_cpu.so"
stale=0
[ -f "$lib" ] || stale=1
for f in "$src"/*.c "$src"/*.h "$0"; do
  [ -f "$f" ] && [ "$f" -nt "$lib" ] && stale=1
done
[ "$stale" = 1 ] || exit 0
mkdir -p "$out"
"$cc" -O3 -std=c11 -fPIC -shared -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror -o "$lib.tmp" "$src"/*.c
mv "$lib.tmp" "$lib"
echo "flexq-plugin: built $lib ($("$cc" --version | head -1))"
