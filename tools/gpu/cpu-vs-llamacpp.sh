#!/usr/bin/env bash
# On the GPU host (16 cores, no Java, no Maven), from the bundle of tools/gpu/bundle.sh: ours vs llama.cpp on the CPU
# (bench/compare-llama-cpp.sh: same files, same threads, alternating rounds, llama.cpp's decode at the same depth as
# ours) for one or more model shapes in one call, then the decode-kernel bandwidth table if time is left.
#   SHAPES="ref-27m llama-3.2-1b llama-3.1-8b" bash .gpu/cpu-vs-llamacpp.sh
# Writes everything to $OUT/cpu-vs-llamacpp.txt, with the seconds each stage took.
#
# llama.cpp: reuses /tmp/lb/bin/{llama-bench,llama-quantize} (the CUDA build of e2e-bench.sh; waits up to LB_WAIT s
# for a build it started) and keeps it off the GPU with CUDA_VISIBLE_DEVICES= (ggml-cuda then registers no device, so
# no layer and no prompt matmul can be offloaded) plus -ngl 0; without it, builds llama.cpp CPU-only into /tmp/lb-cpu.
# Models, per shape (made once, kept in /tmp while the machine stays warm):
#   ref-27m       $REF27M_F16 (default /tmp/m27/flexq-ref-27M-f16.gguf, or the bundle's shared/models copy) when
#                 present, else a random-weight GGUF of the same shape (dim 512, ffn 1536, 8 layers, 8/4 heads, vocab
#                 4096): the kernels do not depend on the values, so the speed is the same
#   llama-3.2-1b  synthetic (synth_gguf.py) in /tmp/cpu-bench
#   llama-3.1-8b  /tmp/e2e/m-f16.gguf and its m-Q8_0.gguf / m-fq6.gguf from e2e-bench.sh when present, else made here
# Q8_0 with llama-quantize, FQ6 W6A8 with `flexq quantize --preset a8 --no-clip --no-gptq` (random weights: only speed
# is measured). Pairs: fq6 (our FQ6 vs llama.cpp's Q8_0), q8 (Q8_0 both), f16 (F16 both).
# Knobs (environment): SHAPES (or SHAPE; default llama-3.2-1b), THREADS (nproc), ROUNDS (27M 5, 1B 3, 8B 2),
# PROMPT (512), DECODE (27M/1B 32, 8B 16), PAIRS (27M/1B "fq6 q8 f16", 8B "fq6 q8"), the same with a suffix for one
# shape (ROUNDS_8B, PROMPT_8B, DECODE_8B, PAIRS_8B, ..._1B, ..._27M), KERNELS (1: the kernel table at the end if
# KERNEL_S seconds are left, default 120), KV (our KV cache type, -Dflexq.cpu.kv: f16 by default, llama.cpp's
# default cache type; f32), BUDGET (seconds for the whole call, default 570: no round starts that would
# end after it), OURS_THREADS (our threads when they should differ from THREADS, e.g. 15), WARMUP (our warm-up
# passes before the timed one; 27M 4, 1B 2, 8B 1: a pass of a larger model is longer and its per-step Java overhead,
# compiled or not, a smaller share of a step; see bench/results/cpu-vs-llamacpp.md, "the warm-up protocol"). For a trial elsewhere: FLEXQ_JAVA, LLAMA_BIN (a folder with llama-bench), WORK (default /tmp/cpu-bench).
set -uo pipefail
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
THREADS=${THREADS:-$(nproc)}; SHAPES=${SHAPES:-${SHAPE:-llama-3.2-1b}}
W=${WORK:-/tmp/cpu-bench}; mkdir -p "$W"
exec > >(tee "$OUT/cpu-vs-llamacpp.txt") 2>&1
start=$(date +%s); deadline=$(( start + ${BUDGET:-570} ))
stage=$start
lap() { local now; now=$(date +%s); echo "[stage] $1: $(( now - stage )) s (total $(( now - start )) s)"; stage=$now; }
die() { echo "cpu-vs-llamacpp: $*" >&2; exit 1; }
echo "date: $(date -u '+%F %T UTC'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2 " GiB"}'), shapes: $SHAPES"

export FLEXQ_JAVA=${FLEXQ_JAVA:-/tmp/jre/bin/java}
[ -x "$FLEXQ_JAVA" ] || tar xJf "$G/jre.tar.xz" -C /tmp || die "no Java: $G/jre.tar.xz did not unpack into /tmp/jre"
export FLEXQ_CP="$G/classes/runtime-adapter:$G/classes/flexq-plugin:$(ls "$G"/lib/*.jar | grep -v console | tr '\n' ':')"
flexq() { "$FLEXQ_JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx${QUANT_HEAP:-48g} \
  -cp "$FLEXQ_CP" io.flexq.runtime.cli.Main "$@"; }

# llama.cpp: the CUDA build of e2e-bench.sh, or a CPU-only one
LB=${LLAMA_BIN:-/tmp/lb/bin}
if [ ! -x $LB/llama-bench ] && [ -f /tmp/lb.started ]; then
  echo "waiting up to ${LB_WAIT:-240} s for e2e-bench.sh's llama.cpp build (/tmp/llama-build.log)"
  for _ in $(seq 1 $(( ${LB_WAIT:-240} / 5 ))); do [ -x $LB/llama-bench ] && [ -x $LB/llama-quantize ] && break; sleep 5; done
fi
if [ -x $LB/llama-bench ] && [ -x $LB/llama-quantize ]; then
  echo "llama.cpp: $LB (existing build, e.g. e2e-bench.sh's with CUDA), run with CUDA_VISIBLE_DEVICES= and -ngl 0; its devices that way:"
  CUDA_VISIBLE_DEVICES= $LB/llama-bench --list-devices 2>&1 | grep -v "^$" | sed 's/^/  /'
else
  LB=/tmp/lb-cpu/bin
  if [ ! -x $LB/llama-bench ]; then
    src="$G/llama.cpp-src.tar.xz"; [ -f "$src" ] || src="$G/anchors/llama.cpp-src.tar.xz"
    rm -rf /tmp/lc-cpu; mkdir -p /tmp/lc-cpu; tar xJf "$src" -C /tmp/lc-cpu || die "cannot unpack $src"
    cmake -S /tmp/lc-cpu/lc -B /tmp/lb-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DGGML_NATIVE=ON \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
      -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF > "$W/cmake.log" 2>&1 || die "cmake failed, see $W/cmake.log"
    cmake --build /tmp/lb-cpu -j "$(nproc)" --target llama-bench llama-quantize > "$W/build.log" 2>&1 \
      || die "llama.cpp build failed, see $W/build.log"
  fi
  echo "llama.cpp: $LB (CPU-only build)"
fi
lap "llama.cpp ready"

synth="$G/synth_gguf.py"; [ -f "$synth" ] || synth="$G/anchors/synth_gguf.py"
# synth SHAPE OUT: the anchors' writer; ref-27m is added to its table here (the writer itself is not ours to edit)
synth() {
  python3 - "$synth" "$1" "$2" <<'PY'
import sys
path, shape, out = sys.argv[1:4]
src = open(path).read()
table = "SHAPES = {"
if table not in src:
    sys.exit("synth_gguf.py has no '%s' table to add ref-27m to: %s" % (table, path))
src = src.replace(table, table + '"ref-27m": (512, 1536, 8, 8, 4, 4096, 10000.0), ', 1)
sys.argv = [path, shape, out]
exec(compile(src, path, "exec"), {"__name__": "__main__"})
PY
}
gb() { awk -v b="$(stat -L -c %s "$1")" 'BEGIN {printf "%.2f", b / 1e9}'; }

for shape in $SHAPES; do
  case "$shape" in
    ref-27m|27m|27M) shape=ref-27m; sfx=27M; r=5; d=32; wu=4; pairs="fq6 q8 f16"
      f16=${REF27M_F16:-/tmp/m27/flexq-ref-27M-f16.gguf}
      [ -f "$f16" ] || f16="$G/shared/models/flexq-ref-27M-f16.gguf"
      [ -f "$f16" ] || f16="$W/ref-27m-synthetic-f16.gguf"
      q8="$W/ref-27m-q8_0.gguf"; fq6="$W/ref-27m-fq6-a8.gguf" ;;
    llama-3.2-1b|1b|1B) shape=llama-3.2-1b; sfx=1B; r=3; d=32; wu=2; pairs="fq6 q8 f16"
      f16="$W/$shape-f16.gguf"; q8="$W/$shape-q8_0.gguf"; fq6="$W/$shape-fq6-a8.gguf" ;;
    llama-3.1-8b|8b|8B) shape=llama-3.1-8b; sfx=8B; r=2; d=16; wu=1; pairs="fq6 q8"
      f16=/tmp/e2e/m-f16.gguf; q8=/tmp/e2e/m-Q8_0.gguf; fq6=/tmp/e2e/m-fq6.gguf
      [ -f "$f16" ] || f16="$W/$shape-f16.gguf"
      [ -f "$q8" ] || q8="$W/$shape-q8_0.gguf"
      [ -f "$fq6" ] || fq6="$W/$shape-fq6-a8.gguf"
      # e2e-bench.sh quantizes under quantize's default q6_k budget, which may keep some linears Q8_0: reuse only an all-FQ6 file
      if [ "$fq6" = /tmp/e2e/m-fq6.gguf ] && flexq inspect "$fq6" 2>/dev/null \
          | awk '$1 ~ /^blk\.[0-9]+\.(attn_[qkv]|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$/ && $2 != "FQ6" {n++} END {exit n > 0 ? 0 : 1}'; then
        echo "$fq6 has linears that are not FQ6 (quantize's default budget): an all-FQ6 file is made instead"
        fq6="$W/$shape-fq6-a8.gguf"
      fi ;;
    tiny) sfx=TINY; r=1; d=8; wu=1; pairs="fq6 q8 f16"   # the set-up only
      f16="$W/$shape-f16.gguf"; q8="$W/$shape-q8_0.gguf"; fq6="$W/$shape-fq6-a8.gguf" ;;
    *) echo "unknown shape $shape (ref-27m, llama-3.2-1b, llama-3.1-8b, tiny): skipped"; continue ;;
  esac
  v=ROUNDS_$sfx; rounds=${!v:-${ROUNDS:-$r}}
  v=PROMPT_$sfx; prompt=${!v:-${PROMPT:-512}}
  v=DECODE_$sfx; decode=${!v:-${DECODE:-$d}}
  v=PAIRS_$sfx; pairs=${!v:-${PAIRS:-$pairs}}
  v=WARMUP_$sfx; warmup=${!v:-${WARMUP:-$wu}}
  echo; echo "# $shape: rounds $rounds, prompt $prompt, decode $decode, our warm-up passes $warmup, pairs: $pairs"
  if [ ! -f "$f16" ]; then
    synth "$shape" "$f16" > "$W/synth-$shape.log" 2>&1 || { tail -3 "$W/synth-$shape.log"; echo "no F16 model: $shape skipped"; continue; }
    lap "$shape: wrote $f16 ($(gb "$f16") GB, random weights)"
  fi
  echo "F16: $f16 ($(gb "$f16") GB)"
  if [ ! -f "$q8" ]; then
    $LB/llama-quantize "$f16" "$q8.tmp" Q8_0 "$THREADS" > "$W/q8-$shape.log" 2>&1 && mv "$q8.tmp" "$q8" \
      || { tail -3 "$W/q8-$shape.log"; echo "llama-quantize failed: $shape skipped"; continue; }
    lap "$shape: llama-quantize Q8_0 of $(gb "$f16") GB"
  fi
  echo "Q8_0: $q8 ($(gb "$q8") GB)"
  if [ ! -f "$fq6" ]; then
    flexq quantize "$f16" "$fq6.tmp" --preset a8 --no-clip --no-gptq --max-bytes none --quiet > "$W/fq6-$shape.log" 2>&1 && mv "$fq6.tmp" "$fq6" \
      || { tail -3 "$W/fq6-$shape.log"; echo "flexq quantize failed: $shape skipped"; continue; }
    lap "$shape: flexq quantize FQ6 a8 --no-clip of $(gb "$f16") GB"
  fi
  echo "FQ6: $fq6 ($(gb "$fq6") GB)"
  args=()
  for p in $pairs; do
    case "$p" in
      fq6) args+=("FQ6 W6A8 vs Q8_0, $shape=$fq6,$q8") ;;
      q8) args+=("Q8_0, $shape=$q8,$q8") ;;
      f16) args+=("F16, $shape=$f16,$f16") ;;
      *) echo "unknown pair $p (fq6, q8, f16): skipped" ;;
    esac
  done
  left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 30 ]; then echo "$shape: not run, ${left} s left of BUDGET"; continue; fi
  FLEXQ_JAVA_OPTS="-Xmx${BENCH_HEAP:-24g} -Dflexq.cpu.kv=${KV:-f16} ${FLEXQ_JAVA_OPTS:-}" CUDA_VISIBLE_DEVICES= timeout "$left" \
    bash "$G/compare-llama-cpp.sh" --llama-bench $LB/llama-bench --llama-args "-ngl 0" --threads "$THREADS" \
      --ours-threads "${OURS_THREADS:-$THREADS}" --ours-warmup "$warmup" --rounds "$rounds" --prompt "$prompt" --decode "$decode" --deadline "$deadline" "${args[@]}" \
    || echo "compare-llama-cpp.sh for $shape ended with status $?"
  lap "$shape: comparison"
done

if [ "${KERNELS:-1}" = 1 ]; then
  left=$(( deadline - $(date +%s) ))
  if [ "$left" -ge "${KERNEL_S:-120}" ]; then
    timeout "$left" bash "$G/compare-llama-cpp.sh" --llama-bench $LB/llama-bench --threads "$THREADS" --kernels \
      --kernel-args "--rows 4096 --cols 4096 --ring-mb 1024 --seconds 1" || echo "kernel table ended with status $?"
    lap "kernel table"
  else
    echo "kernel table: not run, ${left} s left of BUDGET (needs KERNEL_S=${KERNEL_S:-120})"
  fi
fi
echo "total $(( $(date +%s) - start )) s"
