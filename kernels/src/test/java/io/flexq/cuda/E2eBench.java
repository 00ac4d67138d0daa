package io.flexq.cuda;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.Throughput;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * End-to-end speed of one model file on the device: prefill of a random prompt, greedy decode at several batch
 * sizes (independent sequences stepped together), device memory. Prints one markdown row per batch size.
 * Wall-clock times of whole forwards as a user sees them (Java launch overhead included), median of runs.
 *
 * <pre>java ... io.flexq.cuda.E2eBench MODEL.gguf LABEL [prompt=512] [decode=128] [batches=1,8,32] [runs=3]</pre>
 * MODEL {@code synthetic-fq6:llama-2-70b} (or a preset shape name; {@code :q8_0} appended: Q8_0 head and embedding, as
 * {@code flexq quantize} writes by default; {@code :f16}: every linear F16 instead, the FP16 model of the shape) generates a
 * random model in host memory ({@link SyntheticFq6Model}) instead of reading a file.
 * {@code -Dflexq.act_preset=a6|a8|paper} runs FQ6 weights with that preset's activation modes.
 * {@code -Dflexq.profile=CHUNKS,ROWS,STEPS} prints where the device time of prefill chunks and decode steps goes,
 * stage by stage ({@link DecoderProfile}), instead of the throughput rows.
 */
public final class E2eBench {

    /**
     * {@code SHAPE[:q8_0|:f16]}: a random FQ6 model of a preset shape (or llama-2-70b), with a Q8_0 head and embedding if
     * asked; {@code :f16}: F16 linears, head and embedding.
     */
    private static ModelFile synthetic(String spec, ClassLoader cl) {
        boolean q8 = spec.endsWith(":q8_0"), f16 = spec.endsWith(":f16");
        String shape = q8 || f16 ? spec.substring(0, spec.lastIndexOf(':')) : spec;
        return new SyntheticFq6Model(shape.endsWith("70b") ? SyntheticFq6Model.LLAMA_2_70B : io.flexq.runtime.model.ModelShape.named(shape),
                BuiltinTypes.registry(cl), 7, q8, f16);
    }

    public static void main(String[] args) {
        String source = args[0];
        String label = args[1];
        int prompt = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int decode = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int[] batches = args.length > 4 ? Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray() : new int[]{1, 8, 32};
        int runs = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        List<String> log = new ArrayList<>();
        ClassLoader cl = E2eBench.class.getClassLoader();
        long t0 = System.nanoTime();
        try (CudaDevice probe = CudaDevice.open(0)) {
            long free0 = probe.memoryInfo()[0];
            try (ModelFile f = source.startsWith("synthetic-fq6:") ? synthetic(source.substring(14), cl)
                    : ModelFiles.open(Path.of(source), BuiltinTypes.registry(cl));
                 Llama llama = Llama.load(f, Backends.discover(cl, log::add), Llama.offloads(cl), log::add)) {
                double loadS = (System.nanoTime() - t0) / 1e9;
                long used = free0 - probe.memoryInfo()[0];
                System.err.println(llama.describe().getFirst());
                if (!System.getProperty("flexq.cuda.timingSkip", "").isEmpty()) {
                    System.err.println("flexq.cuda.timingSkip=" + System.getProperty("flexq.cuda.timingSkip")
                            + ": part of every forward is left out, outputs are garbage (timing of the other part only)");
                }
                System.err.printf(Locale.ROOT, "loaded in %.1f s, %.2f GB of device memory%n", loadS, used / 1e9);
                String profile = System.getProperty("flexq.profile");
                if (profile != null) {  // "chunks,rows,steps": stage times of prefill chunks and decode steps
                    int[] v = Arrays.stream(profile.split(",")).mapToInt(Integer::parseInt).toArray();
                    CudaModel cm = (CudaModel) llama.deviceModel().orElseThrow(() -> new IllegalStateException("the model is not on the device"));
                    System.out.println("### Stage profile: " + label);
                    System.out.println();
                    System.out.println(cm.profile(v[0], v[1], v[2]));
                    return;
                }
                int[] p = Throughput.randomPrompt(prompt, llama.config().vocabSize(), 7);
                for (int b : batches) {
                    double[] pre = new double[runs], dec = new double[runs];
                    Throughput.measureBatch(llama, Arrays.copyOf(p, Math.min(prompt, 16)), 8, b, 7);  // warm-up (graphs)
                    long peak = 0;
                    for (int r = 0; r < runs; r++) {
                        Throughput.Measurement m = Throughput.measureBatch(llama, p, decode, b, 7 + r);
                        pre[r] = m.prefillTokensPerSecond();
                        dec[r] = m.decodeTokensPerSecond();
                        peak = Math.max(peak, free0 - probe.memoryInfo()[0]);
                    }
                    Arrays.sort(pre);
                    Arrays.sort(dec);
                    System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %.1f | %.1f | %.2f |%n", label, b, prompt, decode,
                            pre[runs / 2], dec[runs / 2], used / 1e9);
                }
            }
        } catch (RuntimeException e) {
            log.forEach(System.err::println);
            throw e;
        }
    }
}
