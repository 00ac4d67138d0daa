package io.flexq.jlama.agent;

import io.flexq.jlama.JlamaVersion;
import io.flexq.jlama.Mode;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Optional;

/**
 * The drop-in: {@code java -javaagent:flexq-jlama-agent.jar[=a8|a6|a16|auto] ...} on an unchanged Jlama 0.8.4
 * application (plain Jlama or langchain4j-jlama). When Jlama's classes load, {@link JlamaRewriter} makes
 * {@code SafeTensorSupport.loadWeights} return FQ6 weights and {@code pickFastestImplementation} return
 * FlexQ-wrapped operations. The agent refuses, leaving Jlama as it is with one line on stderr, when the Jlama
 * version is not {@value JlamaVersion#SUPPORTED} or a rewrite fails.
 */
public final class FlexqAgent {

    private FlexqAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        Mode mode;
        try {
            mode = Mode.parse(args == null ? "a8" : args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage() + "; Jlama runs unchanged");
            return;
        }
        Hooks.mode = mode;
        inst.addTransformer(new Transformer(), false);
    }

    private static final class Transformer implements ClassFileTransformer {
        private volatile boolean refused;

        @Override
        public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd, byte[] bytes) {
            if (refused || redefined != null
                    || !(JlamaRewriter.SAFE_TENSOR_SUPPORT.equals(className) || JlamaRewriter.OPERATIONS_PROVIDER.equals(className))) {
                return null;
            }
            Optional<String> version = JlamaVersion.find(loader);
            if (version.isEmpty() || !version.get().equals(JlamaVersion.SUPPORTED)) {
                refuse("Jlama " + version.orElse("of unknown version (no Maven properties in its jar)") + " is not supported (this agent works with "
                        + JlamaVersion.SUPPORTED + " only)");
                return null;
            }
            try {
                return JlamaRewriter.rewrite(className, bytes, loader);
            } catch (Throwable t) {
                refuse("could not rewrite " + className.replace('/', '.') + " (" + t + ")");
                return null;
            }
        }

        /**
         * One stderr line. Once one class is refused the other is left alone too; if the other was already
         * rewritten, its hook still works (wrapped operations route only FQ6 tensors, and without FQ6 weights
         * there are none).
         */
        private synchronized void refuse(String why) {
            if (!refused) {
                refused = true;
                System.err.println("flexq-jlama agent: " + why + "; Jlama runs unchanged");
            }
        }
    }
}
