package io.flexq.runtime.llama;

import java.util.function.Supplier;

/**
 * Runs test code with the CPU KV cache type ({@value KvCache#PROPERTY}) set, restoring the previous value after: for
 * tests whose bound holds for one cache type only (fp32 exactness against float64 or PyTorch references, the fp16
 * cache's own bounds). The property is read when a session is made.
 */
final class KvCacheType {

    private KvCacheType() {
    }

    static <T> T with(String type, Supplier<T> body) {
        String old = System.getProperty(KvCache.PROPERTY);
        System.setProperty(KvCache.PROPERTY, type);
        try {
            return body.get();
        } finally {
            if (old == null) {
                System.clearProperty(KvCache.PROPERTY);
            } else {
                System.setProperty(KvCache.PROPERTY, old);
            }
        }
    }

    static void run(String type, Runnable body) {
        with(type, () -> {
            body.run();
            return null;
        });
    }
}
