#!/usr/bin/env bash
# usage: tools/build-native.sh MODULE_DIR CLASSES_DIR LIBNAME
# Build-time native compile (run by Maven, phase process-resources, in flexq-plugin and runtime-adapter): the module's
# src/main/c/*.c into one shared library, CLASSES_DIR/native/linux-x86_64/LIBNAME.so, which the jar carries and Java
# loads through the FFM API (NativeFq6 in flexq-plugin, NativeKernels in runtime-adapter).
# One library for every x86-64 CPU: the AVX2 and AVX-512 VNNI code paths are chosen at run time (CPUID), so no
# -march here. Without gcc, or on another OS/architecture, it builds nothing and the Vector API kernels run.
# -ffp-contract=off: the FQ6 epilogue is a multiply then an add, never fused (docs/FQ6.md, section 5).
set -euo pipefail
src="$1/src/main/c"
out="$2/native/linux-x86_64"
name="$3"
cc="${CC:-gcc}"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "$name: no native kernels for $(uname -s)-$(uname -m); the Vector API kernels will run"
  exit 0
fi
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "$name: $cc not found; the Vector API kernels will run"
  exit 0
fi
lib="$out/$name.so"
stale=0
[ -f "$lib" ] || stale=1
for f in "$src"/*.c "$src"/*.h "$0"; do
  [ -f "$f" ] && [ "$f" -nt "$lib" ] && stale=1
done
[ "$stale" = 1 ] || exit 0
mkdir -p "$out"
"$cc" -O3 -std=c11 -fPIC -shared -ffp-contract=off -fno-math-errno -Wall -Wextra -o "$lib.tmp" "$src"/*.c
mv "$lib.tmp" "$lib"
echo "$name: built $lib ($("$cc" --version | head -1))"
