#!/usr/bin/env bash
# A Jlama chat on an FQ6 model through FlexqJlama.load. Usage: samples/jlama-chat/run.sh [MODEL.gguf] [a8|a6|a16|auto]
# (default: the 27M reference model). Builds flexq-jlama, converts the GGUF into an HF folder once (our converter),
# then runs samples/jlama-chat/JlamaChat.java with Jlama 0.8.4 on the class path. Type a line, get a continuation.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$here/bin/find-java"
cd "$here"
shared="${FLEXQ_SHARED:-$(cd "$here/.." && pwd)/shared}"
model="${1:-$shared/models/flexq-ref-27M-f16.gguf}"
mode="${2:-a8}"
# the agent jar (FlexQ inside) and Jlama's class path (flexq-jlama's is written last by the reactor)
mvn -q -B -ntp -Dflexq.nvcc.skip=true -pl runtime-adapter/flexq-jlama -am package dependency:build-classpath -DskipTests \
    -Dmdep.includeScope=compile -Dmdep.outputFile="$here/target/jlama-cp.txt" >/dev/null
agent="$(ls runtime-adapter/flexq-jlama/target/flexq-jlama-*-agent.jar)"
dir="target/jlama-models/$(basename "$model" .gguf)"
mkdir -p target/jlama-models
[ -f "$dir/model.safetensors" ] || java --add-modules jdk.incubator.vector -jar "$agent" "$model" "$dir"
exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djlama.force_panama_tensor_operations=true \
  -cp "$agent:$(cat target/jlama-cp.txt)" samples/jlama-chat/JlamaChat.java "$dir" "$mode"
