package io.flexq.runtime.gguf;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 6: strings from model files reached the terminal raw in error messages (ESC and BEL bytes, 49 KB
 * of binary in one message). Every message built from a file's strings must be free of terminal controls and
 * bounded in length, while still naming the string (escaped) so the user can find it.
 */
class UntrustedStringsTest {

    static final int MAX_MESSAGE = 4096;
    private static final TensorTypes TYPES = BuiltinTypes.registry(UntrustedStringsTest.class.getClassLoader());

    @TempDir
    Path dir;

    /** ESC [31m, BEL, an OSC title sequence, C1 CSI, a bidi override, then 49 KB of random control and text bytes. */
    static String hostile(long seed) {
        StringBuilder sb = new StringBuilder("\u001b[31mred\u0007\u001b]0;pwned\u0007\u009b2J\u202Eevil");
        SplittableRandom rnd = new SplittableRandom(seed);
        while (sb.length() < 49_000) {
            sb.append((char) (rnd.nextBoolean() ? rnd.nextInt(0x20) : 0x20 + rnd.nextInt(0x90)));
        }
        return sb.toString();
    }

    /** No C0/C1 control, DEL or bidi control reaches the terminal; the length is bounded. */
    static void assertSafe(String msg) {
        assertTrue(msg.length() <= MAX_MESSAGE + 200, "message of " + msg.length() + " chars");
        for (int i = 0; i < msg.length(); i++) {
            char c = msg.charAt(i);
            boolean control = c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E)
                    || (c >= 0x2066 && c <= 0x2069);
            assertTrue(!control, () -> String.format("raw U+%04X at %d in: %s", (int) c, msg.indexOf(c), msg.substring(0, 200)));
        }
    }

    @Test
    void aHostileTensorNameIsEscapedAndTruncated() throws Exception {
        String name = hostile(1);
        Path p = new GgufBytes().header(3, 1, 0).tensor(name, new long[] {4}, 9999, 0).padTo(32).raw(new byte[32])
                .writeTo(dir.resolve("name.gguf"));
        var e = assertThrows(TensorTypes.UnsupportedTensorTypeException.class, () -> GgufFile.open(p, TYPES).close());
        assertSafe(e.getMessage());
        assertTrue(e.getMessage().contains("\\u001b[31mred\\u0007"), e.getMessage().substring(0, 300));
    }

    @Test
    void aHostileDuplicateKeyIsEscapedAndTruncated() throws Exception {
        String key = hostile(2);
        Path p = new GgufBytes().header(3, 0, 2).key(key, 4).u32(1).key(key, 4).u32(2).writeTo(dir.resolve("key.gguf"));
        var e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p, TYPES).close());
        assertSafe(e.getMessage());
        assertTrue(e.getMessage().contains("twice"), e.getMessage().substring(0, 300));
    }

    @Test
    void aHostileTokenizerModelNameIsEscaped() {
        Map<String, Object> md = Map.of("tokenizer.ggml.model", hostile(3), "tokenizer.ggml.tokens", new String[] {"a"});
        var e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromMetadata(new Metadata("t.gguf", md)));
        assertSafe(e.getMessage());
    }
}
