package io.flexq.jlama.agent;

import com.github.tjake.jlama.safetensors.SafeTensorSupport;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.instruction.InvokeInstruction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two rewrites on Jlama 0.8.4's real class files: each return gets its hook; a class without the method is refused. */
class JlamaRewriterTest {

    static byte[] bytes(Class<?> c) throws Exception {
        try (InputStream in = c.getClassLoader().getResourceAsStream(c.getName().replace('.', '/') + ".class")) {
            return in.readAllBytes();
        }
    }

    static long hookCalls(byte[] cls, String method) {
        return ClassFile.of().parse(cls).methods().stream().filter(m -> m.methodName().equalsString(method))
                .flatMap(m -> m.code().orElseThrow().elementStream())
                .filter(e -> e instanceof InvokeInstruction i && i.owner().asInternalName().equals("io/flexq/jlama/agent/Hooks"))
                .count();
    }

    @Test
    void loadWeightsAndPickFastestImplementationCallTheHooksBeforeEveryReturn() throws Exception {
        ClassLoader cl = SafeTensorSupport.class.getClassLoader();
        byte[] sts = JlamaRewriter.rewrite(JlamaRewriter.SAFE_TENSOR_SUPPORT, bytes(SafeTensorSupport.class), cl);
        assertEquals(2, hookCalls(sts, "loadWeights"), "loadWeights has two returns in 0.8.4 (index file, single file)");
        assertEquals(0, hookCalls(sts, "quantizeModel"));
        byte[] top = JlamaRewriter.rewrite(JlamaRewriter.OPERATIONS_PROVIDER, bytes(TensorOperationsProvider.class), cl);
        assertEquals(1, hookCalls(top, "pickFastestImplementation"));
        // the JVM's verifier accepts them
        ClassFile.of().verify(sts).forEach(err -> { throw new AssertionError(err); });
        ClassFile.of().verify(top).forEach(err -> { throw new AssertionError(err); });
    }

    @Test
    void aClassWithoutTheMethodIsRefusedNamingIt() throws Exception {
        var e = assertThrows(IllegalStateException.class,
                () -> JlamaRewriter.rewrite(JlamaRewriter.SAFE_TENSOR_SUPPORT, bytes(TensorOperationsProvider.class), getClass().getClassLoader()));
        assertTrue(e.getMessage().contains("loadWeights") && e.getMessage().contains("found 0 method(s)"), e.getMessage());
    }
}
