package io.flexq.cuda;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.llama.RopeScaling;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device decoder's properties that hold on any machine (these run on CI, which has no GPU). */
class CudaDecoderWithoutGpuTest {

    @Test
    void isFoundByServiceLoaderAndWithoutAGpuTheModelRunsOnTheCpuWithTheReason() throws IOException {
        List<String> log = new ArrayList<>();
        ClassLoader cl = getClass().getClassLoader();
        assertTrue(Llama.offloads(cl).stream().anyMatch(o -> o instanceof CudaDecoderOffload), "registered as a DecoderOffload service");
        CudaDecoderOffload offload = new CudaDecoderOffload();
        assertFalse(offload.availability().reason().isBlank());
        if (offload.availability().available()) {
            return;  // a GPU host: CudaDecoderGpuTest covers it
        }
        try (ModelFile f = ModelFiles.open(SharedData.require("models/stories260K-f32.gguf"), BuiltinTypes.registry(cl));
             Llama llama = Llama.load(f, Backends.discover(cl, log::add), List.of(offload), log::add)) {
            assertFalse(llama.onDevice());
            assertTrue(log.contains("decoder offload flexq-cuda: unavailable, " + offload.availability().reason()), log.toString());
        }
    }

    @Test
    void shapesTheKernelsCannotTakeAreDeclinedWithTheReason() throws IOException {
        ClassLoader cl = getClass().getClassLoader();
        try (ModelFile f = ModelFiles.open(SharedData.require("models/stories260K-f32.gguf"), BuiltinTypes.registry(cl))) {
            LlamaConfig ok = LlamaConfig.from(f);
            assertNull(CudaDecoderOffload.unsupported(ok, f));
            LlamaConfig bigHeads = new LlamaConfig(1024, 2048, 1, 2, 2, 512, ok.vocabSize(), 64, 512, 1e4, 1e-5f, new RopeScaling.None());
            assertTrue(CudaDecoderOffload.unsupported(bigHeads, f).startsWith("head size 512"), CudaDecoderOffload.unsupported(bigHeads, f));
            LlamaConfig wideGroups = new LlamaConfig(1024, 2048, 1, 16, 1, 64, ok.vocabSize(), 64, 64, 1e4, 1e-5f, new RopeScaling.None());
            assertTrue(CudaDecoderOffload.unsupported(wideGroups, f).startsWith("16 query heads per key/value head"),
                    CudaDecoderOffload.unsupported(wideGroups, f));
        }
    }

    /** The kernels DecoderKernels launches are exactly the extern "C" entry points of decoder.cu. */
    @Test
    void decoderLaunchesMatchTheCudaSource() throws IOException {
        String src;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(KernelModule.DECODER_SOURCE)) {
            assertNotNull(in, KernelModule.DECODER_SOURCE + " on the class path");
            src = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String launches = java.nio.file.Files.readString(java.nio.file.Path.of("src/main/java/io/flexq/cuda/DecoderKernels.java"));
        java.util.Set<String> entries = new java.util.TreeSet<>(), launched = new java.util.TreeSet<>();
        Matcher e = Pattern.compile("extern \"C\" __global__ void __launch_bounds__\\(\\d+(?:, \\d+)?\\) (\\w+)\\(").matcher(src);
        while (e.find()) {
            entries.add(e.group(1));
        }
        Matcher l = Pattern.compile("k\\.launch\\(\"(\\w+)\"").matcher(launches);
        while (l.find()) {
            launched.add(l.group(1));
        }
        assertFalse(entries.isEmpty());
        assertEquals(entries, launched);
    }
}
