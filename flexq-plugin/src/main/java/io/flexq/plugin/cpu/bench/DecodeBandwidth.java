package io.flexq.plugin.cpu.bench;

import io.flexq.plugin.cpu.FlexqCpuBackend;
import io.flexq.plugin.cpu.Fq6TensorType;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

/**
 * Decode (one token) matmul speed of every CPU weight type as a fraction of the machine's read bandwidth.
 * A ring of distinct matrices larger than the last-level cache is multiplied in turn, so weights come from
 * DRAM as in a real decode step of a large model; the bandwidth is a STREAM-like read ({@link ReadBandwidth})
 * on the same threads. Prints a Markdown table. A benchmark: nothing is checked against a threshold.
 *
 * <p>Usage: {@code DecodeBandwidth [--threads N] [--rows R] [--cols K] [--ring-mb MB] [--seconds S] [--types a,b]}
 */
public final class DecodeBandwidth {

    private DecodeBandwidth() {
    }

    /** One kernel to time: its name, the stored bytes per matrix it streams, a loader. */
    private record Kind(String name, TensorType type, String actBits) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        int threads = Integer.parseInt(a.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
        int rows = Integer.parseInt(a.getOrDefault("rows", "4096"));
        int cols = Integer.parseInt(a.getOrDefault("cols", "4096"));
        long ringBytes = Long.parseLong(a.getOrDefault("ring-mb", "512")) << 20;
        double seconds = Double.parseDouble(a.getOrDefault("seconds", "2"));
        List<String> wanted = List.of(a.getOrDefault("types", "fq6-a8,fq6-a6,fq6-a16,q8_0,q4_0,q6_k,f16,bf16,f32").split(","));

        ForkJoinPool pool = new ForkJoinPool(threads);
        try (Arena arena = Arena.ofShared()) {
            double bw = ReadBandwidth.measure(pool, ringBytes, seconds);
            System.out.printf(Locale.ROOT, "read bandwidth (STREAM-like sum over %d MiB, %d threads): %.2f GB/s%n%n",
                    ringBytes >> 20, threads, bw / 1e9);
            System.out.println("| kernel | shape | threads | bytes/matrix stored | bytes/matrix read by the kernel | us/matmul | GB/s read | fraction of read bandwidth | GMAC/s |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
            Random rnd = new Random(1);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rnd.nextGaussian() * 0.02);
            }
            ActivationBatch in = ActivationBatch.allocate(arena, 1, cols);
            for (int i = 0; i < cols; i++) {
                in.set(0, i, (float) rnd.nextGaussian());
            }
            ActivationBatch out = ActivationBatch.allocate(arena, 1, rows);
            for (String k : wanted) {
                Kind kind = kind(k.trim());
                byte[] bytes = kind.type instanceof Fq6TensorType ? fq6Bytes(rnd, rows, cols)
                        : Quantizers.quantize(kind.type, w, rows, cols);
                int copies = (int) Math.max(2, ringBytes / bytes.length);
                WeightBackend backend = kind.actBits != null ? new FlexqCpuBackend(pool, s -> { }) : new CpuBackend(pool);
                List<WeightMatrix> ring = new ArrayList<>();
                try {
                    for (int c = 0; c < copies; c++) {
                        MemorySegment seg = arena.allocate(bytes.length, 64);
                        seg.copyFrom(MemorySegment.ofArray(bytes));
                        Map<String, Object> md = kind.actBits == null ? Map.of() : Map.of("flexq.act_bits.w", Long.parseLong(kind.actBits));
                        ring.add(backend.load(new WeightSource("w", kind.type, rows, cols, seg, md)));
                    }
                    double us = time(ring, in, out, seconds);
                    // flexq-cpu repacks FQ6 at load (a byte per code, or 6 bits packed on AVX-512 VBMI, plus an fp32 scale
                    // per 128): that resident form, not the file's 6.125 bits, is what a decode step reads
                    long read = ring.getFirst() instanceof io.flexq.plugin.cpu.FlexqCpuMatrix f ? f.residentBytes() : bytes.length;
                    double gbs = read / (us * 1e-6) / 1e9;
                    System.out.printf(Locale.ROOT, "| %s | %dx%d | %d | %,d | %,d | %.1f | %.2f | %.2f | %.2f |%n", kind.name, rows, cols,
                            threads, bytes.length, read, us, gbs, gbs * 1e9 / bw, (double) rows * cols / (us * 1e-6) / 1e9);
                } finally {
                    ring.forEach(WeightMatrix::close);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Median microseconds of one matmul over rounds through the ring, after a warm-up (JIT) of a few thousand calls. */
    private static double time(List<WeightMatrix> ring, ActivationBatch in, ActivationBatch out, double seconds) {
        for (int i = 0; i < 3000 && i < 30 * ring.size(); i++) {
            in.changed();
            ring.get(i % ring.size()).matmul(in, out);
        }
        List<Double> perRound = new ArrayList<>();
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        long end = warmEnd + (long) (seconds * 1e9);
        boolean measuring = false;
        while (true) {
            long now = System.nanoTime();
            if (!measuring && now >= warmEnd) {
                measuring = true;
            }
            if (now >= end && perRound.size() >= 3) {
                break;
            }
            long t0 = System.nanoTime();
            for (WeightMatrix m : ring) {
                in.changed(); // each matrix quantizes the input again, as after a new layer
                m.matmul(in, out);
            }
            if (measuring) {
                perRound.add((System.nanoTime() - t0) / 1e3 / ring.size());
            }
        }
        perRound.sort(null);
        return perRound.get(perRound.size() / 2);
    }

    private static Kind kind(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "fq6-a8" -> new Kind("FQ6 W6A8", new Fq6TensorType(), "8");
            case "fq6-a6" -> new Kind("FQ6 W6A6", new Fq6TensorType(), "6");
            case "fq6-a16" -> new Kind("FQ6 W6A16", new Fq6TensorType(), "16");
            case "q8_0" -> new Kind("Q8_0", QuantTypes.Q8_0, null);
            case "q4_0" -> new Kind("Q4_0", QuantTypes.Q4_0, null);
            case "q6_k" -> new Kind("Q6_K", QuantTypes.Q6_K, null);
            case "f16" -> new Kind("F16", FloatTypes.F16, null);
            case "bf16" -> new Kind("BF16", FloatTypes.BF16, null);
            case "f32" -> new Kind("F32", FloatTypes.F32, null);
            default -> throw new IllegalArgumentException("--types: unknown kernel '" + name
                    + "'; known: fq6-a8, fq6-a6, fq6-a16, q8_0, q4_0, q6_k, f16, bf16, f32");
        };
    }

    /** Random INT6 codes and fp16 scales of a plausible size (the speed does not depend on the values). */
    private static byte[] fq6Bytes(Random rnd, int rows, int cols) {
        int groups = Math.ceilDiv(cols, 128);
        byte[] codes = new byte[rows * groups * 128];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                codes[r * groups * 128 + k] = (byte) (rnd.nextInt(64) - 32);
            }
        }
        short[] scales = new short[rows * groups];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Float.floatToFloat16(0.001f + rnd.nextFloat() * 0.002f);
        }
        return FlexqWeights.of("w", rows, cols, codes, scales).toFq6Bytes();
    }
}
