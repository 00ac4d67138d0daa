#!/usr/bin/env bash
# An unchanged langchain4j-jlama chat program (Chat.java) run with the FlexQ agent.
# Usage: samples/langchain4j-jlama/run.sh [MESSAGE] [a8|a6|a16|auto]
# Builds the agent jar, converts the 27M reference model into langchain4j-jlama's model cache once (our converter;
# a ".finished" marker tells Jlama it is complete, so nothing is downloaded), resolves langchain4j-jlama 1.11.0-beta19.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$here/bin/find-java"
cd "$here"
shared="${FLEXQ_SHARED:-$(cd "$here/.." && pwd)/shared}"
message="${1:-Once upon a time, in a small village by the sea, there lived}"
mode="${2:-a8}"
mvn -q -B -ntp -Dflexq.nvcc.skip=true -pl runtime-adapter/flexq-jlama -am package -DskipTests >/dev/null
mvn -q -B -ntp -f samples/langchain4j-jlama/pom.xml dependency:build-classpath -Dmdep.outputFile="$here/target/l4j-cp.txt" >/dev/null
agent="$(ls runtime-adapter/flexq-jlama/target/flexq-jlama-*-agent.jar)"
cache="target/l4j-models"
dir="$cache/flexq_ref27m"
mkdir -p "$cache"
if [ ! -f "$dir/.finished" ]; then
  java --add-modules jdk.incubator.vector -jar "$agent" "$shared/models/flexq-ref-27M-f16.gguf" "$dir"
  touch "$dir/.finished"
fi
exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djlama.force_panama_tensor_operations=true \
  -javaagent:"$agent=$mode" -cp "$(cat target/l4j-cp.txt)" samples/langchain4j-jlama/Chat.java "$cache" flexq/ref27m "$message"
