#!/usr/bin/env bash
# Long fuzz run of every file reader (issue 11): the same targets as the CI property tests
# (runtime-adapter ReaderFuzzTest, flexq-plugin Fq6FuzzTest) for SECONDS per reader, random edit lists
# from a fixed seed. Prints one markdown table per module and leaves them, with any input whose outcome
# was "other", under runtime-adapter/target/fuzz and flexq-plugin/target/fuzz.
#
#   tools/fuzz-readers.sh [SECONDS per reader, default 60] [SEED, default 2026]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
seed=${2:-2026}
source bin/find-java
mvn -q -B -ntp -Dflexq.nvcc.skip=true -pl flexq-plugin -am test \
    -Dtest='LongReaderFuzz,LongFq6Fuzz' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dflexq.fuzz.seconds="$seconds" -Dflexq.fuzz.seed="$seed" >/dev/null
echo "machine: $(nproc) cores, $(uname -srm); date: $(date -u +%FT%TZ); $seconds s per reader, seed $seed"
cat runtime-adapter/target/fuzz/runtime.md
tail -n +3 flexq-plugin/target/fuzz/fq6.md
echo
echo "The slowest input of each runtime reader, timed again alone in a warm JVM:"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp runtime-adapter/target/classes:runtime-adapter/target/test-classes \
    -Dflexq.shared="${FLEXQ_SHARED:-../shared}" io.flexq.runtime.fuzz.SlowestInputs runtime-adapter/target/fuzz/findings 2>/dev/null
