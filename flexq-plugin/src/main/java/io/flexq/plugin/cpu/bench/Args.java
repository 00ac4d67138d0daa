package io.flexq.plugin.cpu.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --name value} pairs of a benchmark's command line (the benchmarks are scripts' helpers, not user commands). */
final class Args {

    private Args() {
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "' at position " + i);
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
