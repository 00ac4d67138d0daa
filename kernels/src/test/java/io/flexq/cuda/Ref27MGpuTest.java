package io.flexq.cuda;

import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.Quality;
import io.flexq.plugin.eval.QualityAccumulator;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 27M reference model, quantized by {@code flexq quantize} with its defaults (FQ6 W6A8 linears, Q8_0 embedding and
 * head), through the device decoder against the host path: 256 greedy steps teacher-forced with the host's tokens,
 * logits compared (max |dlogit|, mean KLD, top-1), and the device's own greedy ids until the first divergence, which
 * must sit where the host's top-2 margin is within twice the largest logit difference. The quantized file (21.6 MB) is
 * too large to travel with the GPU test bundle, so it is carried separately: {@code -Dflexq.ref27m=PATH}.
 *
 * <p>And the model's quality against F16 measured on the device: the F16 model (59 MB) cannot travel either, so its
 * logits on held-out windows come as a {@link ReferenceLogits} file written on a host ({@code -Dflexq.ref27mLogits}).
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

    /**
     * KLD(F16 || FQ6) over the reference windows, the FQ6 file run on the host and on the device. The two differ by the
     * device's rounding, whose own size KLD(host || device) is measured on the same positions: for small perturbations
     * KL is quadratic in the log-probability changes a (F16 to host) and b (host to device), so
     * |KL(F16 || device) - KL(F16 || host)| <= KL(host || device) + 2 sqrt(KL(F16 || host) KL(host || device)) (Cauchy-Schwarz,
     * over positions too); the test allows that plus 10% for the quadratic approximation.
     */
    @Test
    void theKldAgainstF16OnTheDeviceEqualsTheHostFigure() throws Exception {
        GpuTestData.assumeGpu();
        Path p = Path.of(System.getProperty("flexq.ref27m", "/tmp/m27/ref27M-fq6.gguf"));
        Path r = Path.of(System.getProperty("flexq.ref27mLogits", "/tmp/m27/ref27M-f16-logits.bin"));
        Assumptions.assumeTrue(Files.isRegularFile(p) && Files.isRegularFile(r), () -> "skipped: needs the quantized 27M model at " + p
                + " and the F16 model's reference logits at " + r + " (ReferenceLogits.main; -Dflexq.ref27m, -Dflexq.ref27mLogits)");
        ReferenceLogits ref = ReferenceLogits.read(r);
        int vocab = ref.vocab(), first = ref.first(), scored = ref.scored();
        QualityAccumulator host = new QualityAccumulator(), device = new QualityAccumulator(), between = new QualityAccumulator();
        try (ModelFile f = ModelFiles.open(p, CudaDecoderGpuTest.types());
             Llama h = CudaDecoderGpuTest.host(f); Llama d = CudaDecoderGpuTest.device(f);
             LlamaLogits hl = new LlamaLogits(h, ref.ctx()); LlamaLogits dl = new LlamaLogits(d, ref.ctx())) {
            for (ReferenceLogits.Window w : ref.windows()) {
                List<float[]> hostRows = new ArrayList<>();
                hl.forward(w.input(), first, (pos, l) -> {
                    if (pos < first + scored) {
                        host.add(l, w.logits()[pos - first], vocab, w.targets()[pos - first]);
                        hostRows.add(l.clone());
                    }
                });
                dl.forward(w.input(), first, (pos, l) -> {
                    if (pos < first + scored) {
                        device.add(l, w.logits()[pos - first], vocab, w.targets()[pos - first]);
                        between.add(l, hostRows.get(pos - first), vocab, w.targets()[pos - first]);
                    }
                });
            }
        }
        Quality hq = host.result(), dq = device.result(), bq = between.result();
        double bound = 1.1 * (bq.kldMean() + 2 * Math.sqrt(hq.kldMean() * bq.kldMean()));
        System.out.printf(java.util.Locale.ROOT, "[decoder] flexq-ref-27M FQ6 default vs F16, %d windows x %d positions: KLD host %.6f, device %.6f"
                        + " (top-1 %.2f%% / %.2f%%, PPL %.3f / %.3f); host vs device KLD %.2e; allowed difference %.2e%n",
                ref.windows().size(), scored, hq.kldMean(), dq.kldMean(), 100 * hq.top1(), 100 * dq.top1(), hq.ppl(), dq.ppl(), bq.kldMean(), bound);
        // the device's own rounding, bounded as in the teacher-forced decode test: without this the allowed
        // difference grows with the host-device divergence it should catch (a race in the wgmma path gave 0.40)
        assertTrue(bq.kldMean() <= 2e-3, () -> "KLD between host and device " + bq.kldMean() + " > 2e-3");
        assertTrue(Math.abs(dq.kldMean() - hq.kldMean()) <= bound,
                () -> "device KLD " + dq.kldMean() + " vs host " + hq.kldMean() + ": differ by more than " + bound);
    }
}
