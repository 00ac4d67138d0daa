#!/usr/bin/env bash
# Coverage-guided fuzzing of every file reader with Jazzer (issue 11).
#
#   tools/fuzz-jazzer.sh [SECONDS per reader, default 300] [READER ...]     the long run
#   tools/fuzz-jazzer.sh --ci                                              the bounded run CI makes
#   tools/fuzz-jazzer.sh --keep [READER ...]     minimize the long run's corpus (inputs up to 32 KB, KEEP_MAX_BYTES)
#                                                into the test resources JazzerCorpusTest / JazzerFq6CorpusTest replay
#
# READER: gguf llama2c tokenizer-bin tokenizer-json safetensors config-json chat fq6 (default: all of them).
#
# Jazzer 0.24's bundled ASM reads class files only up to Java 23, so the readers are built at release 23 by the
# `fuzz` Maven profile into <module>/target-fuzz/ (the normal build, release 25 in target/, is not touched), and run
# on the Java 25 JDK. Each reader gets its own JVM: its seeds (real files from ../shared/models and small valid
# ones, JazzerSeeds) go to target-fuzz/seeds/READER, the corpus it grows to target-fuzz/corpus/READER (kept between
# runs), inputs that break the contract to target-fuzz/findings/READER, the fuzzer's log to target-fuzz/logs.
# The contract (JazzerContract): accepted, or one of the project's clean errors; any other throwable, an input
# taking longer than the per-input timeout, or going over the heap/RSS limit is a finding.
# The --ci run replays the seeds and then makes a fixed number of inputs per reader from a fixed libFuzzer seed
# (the same inputs each time, whatever the machine's speed), in a fresh corpus.
# Prints a markdown table; exits 1 if any reader had a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ci=false
keep=false
seconds=300
if [[ "${1:-}" == "--ci" ]]; then
    ci=true
    shift
elif [[ "${1:-}" == "--keep" ]]; then
    keep=true
    shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
readers=("$@")
all=(gguf llama2c tokenizer-bin tokenizer-json safetensors config-json chat fq6)
[[ ${#readers[@]} -eq 0 ]] && readers=("${all[@]}")

# inputs per reader in the --ci run: about 10 s each on a 2-core machine (measured in bench/results/hardening.md)
declare -A ci_runs=([gguf]=3000 [llama2c]=6000 [tokenizer-bin]=4000 [tokenizer-json]=4000 [safetensors]=4000
    [config-json]=6000 [chat]=8000 [fq6]=1000)

source bin/find-java
shared=${FLEXQ_SHARED:-}
if [[ -z "$shared" ]]; then
    [[ -d ../shared/models ]] && shared=$(cd ../shared && pwd)
fi
[[ -n "$shared" ]] || { echo "fuzz-jazzer: ../shared not found; set FLEXQ_SHARED" >&2; exit 2; }

mkdir -p target-fuzz
if ! mvn -q -B -ntp -Pfuzz -Dflexq.nvcc.skip=true -Dflexq.native.skip=true -pl flexq-plugin -am test-compile dependency:build-classpath \
        -Dmdep.outputFile=target-fuzz/classpath.txt >target-fuzz/build.log 2>&1; then
    echo "fuzz-jazzer: the release-23 build (-Pfuzz) failed:" >&2
    tail -40 target-fuzz/build.log >&2
    exit 2
fi
cp="$root/flexq-plugin/target-fuzz/test-classes:$root/flexq-plugin/target-fuzz/classes:$(cat flexq-plugin/target-fuzz/classpath.txt)"

out=$root/target-fuzz
$ci && out=$root/target-fuzz/ci && rm -rf "$out"
# jazzer TMP [JVM options] -- [Jazzer and libFuzzer options]: one Jazzer JVM, its scratch files under TMP
jazzer() {
    local tmp=$1 opts=()
    shift
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    (cd "$tmp" && "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
        -XX:+EnableDynamicAgentLoading -Xmx1g -Djava.io.tmpdir="$tmp" -Dflexq.shared="$shared" "${opts[@]}" \
        -cp "$cp" com.code_intelligence.jazzer.Jazzer --instrumentation_includes='io.flexq.**' "$@")
}

target_of() {
    case "$1" in
        fq6) echo io.flexq.plugin.fuzz.JazzerFq6 ;;
        gguf|llama2c|tokenizer-bin|tokenizer-json|safetensors|config-json|chat) echo io.flexq.runtime.fuzz.JazzerReaders ;;
        *) echo "fuzz-jazzer: unknown reader $1 (one of ${all[*]})" >&2; exit 2 ;;
    esac
}

if $keep; then
    for r in "${readers[@]}"; do
        target=$(target_of "$r")
        if [[ $r == fq6 ]]; then
            dest=$root/flexq-plugin/src/test/resources/io/flexq/plugin/fuzz/jazzer-corpus/$r
        else
            dest=$root/runtime-adapter/src/test/resources/io/flexq/runtime/fuzz/jazzer-corpus/$r
        fi
        small=$out/keep/$r/small merged=$out/keep/$r/merged tmp=$out/keep/$r/tmp
        rm -rf "$out/keep/$r" && mkdir -p "$small" "$merged" "$tmp"
        find "$out/corpus/$r" "$dest" -type f -size -$(( ${KEEP_MAX_BYTES:-32768} + 1 ))c -exec cp {} "$small/" \; 2>/dev/null || true
        jazzer "$tmp" -- --target_class="$target" --target_args="$r" -merge=1 -timeout=60 "$merged" "$small" \
            >"$out/keep/$r.log" 2>&1
        rm -rf "$dest" && mkdir -p "$dest" && cp "$merged"/* "$dest/"
        echo "$r: $(find "$small" -type f | wc -l) inputs up to ${KEEP_MAX_BYTES:-32768} bytes -> $(ls "$dest" | wc -l) kept ($(du -sb "$dest" | cut -f1) bytes) in $dest"
    done
    exit 0
fi
mkdir -p "$out/logs"
table=$out/jazzer.md
printf '| reader | wall s | inputs | inputs/s | mean ms/input | longest read ms (bytes) | after 1,000 inputs | coverage: seeds -> end | features | corpus files | corpus KB | findings | peak RSS MB |\n' >"$table"
printf '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n' >>"$table"
failed=0
for r in "${readers[@]}"; do
    target=$(target_of "$r")
    seeds=$out/seeds/$r corpus=$out/corpus/$r findings=$out/findings/$r tmp=$out/tmp/$r log=$out/logs/$r.log
    rm -rf "$tmp"
    mkdir -p "$seeds" "$corpus" "$findings" "$tmp"
    if $ci; then
        budget=(-runs="${ci_runs[$r]}" -seed=2026 -max_total_time=120 -timeout=60)
    else
        budget=(-max_total_time="$seconds" -timeout=20 --keep_going=20)
    fi
    start=$(date +%s)
    set +e
    jazzer "$tmp" -Dflexq.fuzz.seeds="$seeds" -Dflexq.fuzz.slowest="$out/slowest" -- --target_class="$target" --target_args="$r" \
        --reproducer_path="$findings" -artifact_prefix="$findings/" -rss_limit_mb=3072 -print_final_stats=1 \
        "${budget[@]}" "$corpus" "$seeds" >"$log" 2>&1
    status=$?
    set -e
    took=$(( $(date +%s) - start ))
    nfind=$(find "$findings" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    if [[ $status -ne 0 && $nfind -eq 0 ]]; then
        echo "fuzz-jazzer: $r: the fuzzer ended with status $status and saved no input; see $log" >&2
        tail -20 "$log" >&2
        failed=1
    fi
    [[ $nfind -gt 0 ]] && failed=1
    awk -v r="$r" -v took="$took" -v nfind="$nfind" -v corpus="$corpus" '
        /INITED cov:/ { for (i = 1; i <= NF; i++) if ($i == "cov:") c0 = $(i + 1) }
        / cov: / { for (i = 1; i <= NF; i++) { if ($i == "cov:") c1 = $(i + 1); if ($i == "ft:") ft = $(i + 1) } }
        /stat::number_of_executed_units:/ { n = $2 }
        /stat::average_exec_per_sec:/ { rate = $2 }
        /stat::peak_rss_mb:/ { rss = $2 }
        /^flexq-jazzer: .* longest read/ { slow = $6; bytes = substr($8, 2); warm = $14; wbytes = substr($16, 2) }
        END {
            cmd = "find " corpus " -type f | wc -l"; cmd | getline files; close(cmd)
            cmd = "du -sk " corpus " | cut -f1"; cmd | getline kb; close(cmd)
            printf "| %s | %d | %d | %d | %.2f | %s (%s) | %s (%s) | %s -> %s | %s | %d | %d | %d | %s |\n", r, took, n, rate,
                (rate > 0 ? 1000.0 / rate : 0), slow, bytes, warm, wbytes, c0, c1, ft, files, kb, nfind, rss
        }' "$log" >>"$table"
    tail -1 "$table"
done
if ! $ci && [[ -d $out/slowest ]]; then
    echo
    echo "The slowest input of each runtime reader read after the first 1,000, timed again alone in a warm JVM:"
    "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Dflexq.shared="$shared" -cp "$cp" \
        io.flexq.runtime.fuzz.SlowestInputs "$out/slowest" 2>/dev/null | tee "$out/slowest.md"
fi
echo
echo "machine: $(nproc) cores, $(uname -srm), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1); date: $(date -u +%FT%TZ)"
echo "command: tools/fuzz-jazzer.sh $($ci && echo --ci || echo "$seconds") ${readers[*]}"
cat "$table"
exit $failed
