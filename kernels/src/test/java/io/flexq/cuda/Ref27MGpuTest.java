package io.flexq.cuda;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The 27M reference model, quantized by {@code flexq quantize} with its defaults (FQ6 W6A8 linears, Q8_0 embedding and
 * head), through the device decoder against the host path: 256 greedy steps teacher-forced with the host's tokens,
 * logits compared (max |dlogit|, mean KLD, top-1), and the device's own greedy ids until the first divergence, which
 * must sit where the host's top-2 margin is within twice the largest logit difference. The quantized file (21.6 MB) is
 * too large to travel with the GPU test bundle, so it is carried separately: {@code -Dflexq.ref27m=PATH}.
 */
@Tag("gpu")
class Ref27MGpuTest {

    @Test
    void theReferenceModelRunsOnTheDeviceAsOnTheHost() throws Exception {
        GpuTestData.assumeGpu();
        Path p = Path.of(System.getProperty("flexq.ref27m", "/tmp/m27/ref27M-fq6.gguf"));
        Assumptions.assumeTrue(Files.isRegularFile(p), () -> "skipped: no quantized 27M reference model at " + p
                + " (-Dflexq.ref27m=PATH; too large for the test bundle, carried separately)");
        try (ModelFile f = ModelFiles.open(p, CudaDecoderGpuTest.types());
             Llama h = CudaDecoderGpuTest.host(f); Llama d = CudaDecoderGpuTest.device(f)) {
            CudaDecoderGpuTest.compare("flexq-ref-27M FQ6 default (W6A8, Q8_0 head)", CudaDecoderGpuTest.run(h, d, 256), 1.0, 2e-3);
        }
    }
}
