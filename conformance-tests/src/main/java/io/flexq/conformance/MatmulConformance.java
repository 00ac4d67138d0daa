package io.flexq.conformance;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Matmul conformance of one backend for one tensor type, per shape:
 *
 * <ol>
 *   <li>random weights (seeded, {@link RandomInputs}) are encoded into the type ({@link TypeEncoders}) and
 *       decoded back with the type's own {@code dequantizeRow}: those decoded floats are the weights the
 *       backend is meant to multiply by (the encoding error is not the backend's business; a decode far from
 *       the original, relative Frobenius error above {@value #MAX_DECODE_ERROR}, fails as a broken encoder);</li>
 *   <li>the backend loads the bytes (with the variant's metadata) and multiplies a batch of random activations,
 *       twice, with new contents the second time through the same batch objects (a backend that caches a
 *       derived form of its input must notice the change);</li>
 *   <li>every output is compared with the float64 product of the decoded weights and the activations, within
 *       the variant's {@link ErrorModel}; an output left unwritten (the batch is filled with NaN first), a
 *       NaN, a thrown exception or a wrong output token count fails.</li>
 * </ol>
 *
 * Seeds are derived from a base seed, the type id and the shape ({@link #seedFor}) and printed with every
 * result, so a failing shape can be rerun alone with {@link #runShape}.
 */
public final class MatmulConformance {

    /** The tensor name every matrix is loaded under (FQ6's activation mode is keyed by it). */
    public static final String TENSOR = "blk.0.conformance.weight";
    /** Largest relative Frobenius error of encode + decode accepted as a working encoder (Q4_0 on these inputs reaches ~0.2; a broken encoder gives ~1). */
    public static final double MAX_DECODE_ERROR = 0.5;
    /** Default base seed; override with {@code -Dflexq.conformance.seed=N}. */
    public static final long DEFAULT_SEED = 0x5EED_F1E7L;
    /** Outputs a shape needs before its {@code rms(e / sigma)} is judged. */
    static final int MIN_OUTPUTS_FOR_RMS = 16;

    private final TypeEncoders encoders;
    private final long baseSeed;

    public MatmulConformance(TypeEncoders encoders, long baseSeed) {
        this.encoders = encoders;
        this.baseSeed = baseSeed;
    }

    /** The standard encoders and the base seed from {@code -Dflexq.conformance.seed}, else {@link #DEFAULT_SEED}. */
    public static MatmulConformance standard() {
        return new MatmulConformance(TypeEncoders.standard(), Long.getLong("flexq.conformance.seed", DEFAULT_SEED));
    }

    public long baseSeed() {
        return baseSeed;
    }

    public boolean canEncode(TensorType type) {
        return encoders.find(type).isPresent();
    }

    /** Runs every shape of {@link Shape#forType}. */
    public MatmulReport run(WeightBackend backend, TensorType type, Variant variant) {
        return run(backend, type, variant, Shape.forType(type));
    }

    public MatmulReport run(WeightBackend backend, TensorType type, Variant variant, List<Shape> shapes) {
        List<ShapeResult> results = new ArrayList<>();
        for (Shape s : shapes) {
            results.add(runShape(backend, type, variant, s, seedFor(baseSeed, type, s)));
        }
        return new MatmulReport(backend.name(), type.name(), variant.label(), variant.model().toString(), results);
    }

    /** The seed of one shape: a SplitMix64 finaliser over the base seed, type id and shape. */
    public static long seedFor(long base, TensorType type, Shape s) {
        long z = base;
        for (long v : new long[] {type.id(), s.rows(), s.cols(), s.tokens()}) {
            z = mix(z + 0x9E3779B97F4A7C15L * (v + 1));
        }
        return z;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** One shape with an explicit seed. */
    public ShapeResult runShape(WeightBackend backend, TensorType type, Variant variant, Shape shape, long seed) {
        var encoder = encoders.find(type).orElseThrow(() -> new IllegalArgumentException(
                "no encoder for tensor type " + type.name() + " (id " + type.id() + "); add one with TypeEncoders.with"));
        int rows = shape.rows(), cols = shape.cols(), tokens = shape.tokens();
        if (!backend.supports(type, rows, cols)) {
            return new ShapeResult(shape, seed, ShapeResult.Outcome.UNSUPPORTED, Double.NaN, Double.NaN, "",
                    "backend does not support " + type.name() + " " + rows + " x " + cols);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] w = RandomInputs.weights(rnd, rows, cols);
        String matrix = "";
        try (Arena arena = Arena.ofShared()) {
            MemorySegment bytes = encoder.encode(w, rows, cols, arena);
            long size = type.byteSize(cols, rows);
            if (bytes.byteSize() != size) {
                return failed(shape, seed, "", "encoder wrote " + bytes.byteSize() + " bytes, " + type.name() + " needs " + size);
            }
            float[] dec = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                type.dequantizeRow(bytes, r, cols, dec, r * cols);
            }
            double decodeError = relativeError(dec, w);
            if (!(decodeError <= MAX_DECODE_ERROR)) {
                return failed(shape, seed, "", String.format("encode + dequantizeRow is %.3g (relative Frobenius) from the "
                        + "original weights: the encoder or the type's decoder is broken, not only the backend", decodeError));
            }
            ActivationBatch in = ActivationBatch.allocate(arena, tokens + 2, cols);
            ActivationBatch out = ActivationBatch.allocate(arena, tokens + 2, rows);
            in.setTokens(tokens);
            try (WeightMatrix m = backend.load(new WeightSource(TENSOR, type, rows, cols, bytes, variant.metadata()))) {
                matrix = m.describe();
                if (m.rows() != rows || m.cols() != cols) {
                    return failed(shape, seed, matrix, "loaded matrix reports " + m.rows() + " x " + m.cols());
                }
                Comparison total = new Comparison();
                for (int pass = 0; pass < 2; pass++) {
                    float[] x = RandomInputs.activations(rnd, tokens, cols);
                    for (int t = 0; t < tokens; t++) {
                        in.setRow(t, x, t * cols);
                    }
                    fillNaN(out);
                    m.matmul(in, out);
                    if (out.tokens() != tokens) {
                        return failed(shape, seed, matrix, "pass " + pass + ": output batch has " + out.tokens()
                                + " tokens after matmul, input has " + tokens);
                    }
                    compare(variant.model(), dec, x, out, rows, cols, tokens, pass, total);
                }
                double rms = total.sigmaCount >= MIN_OUTPUTS_FOR_RMS ? Math.sqrt(total.sigmaSquares / total.sigmaCount) : Double.NaN;
                List<String> problems = new ArrayList<>(total.problems);
                if (variant.model() instanceof ErrorModel.QuantizedActivations && rms > ErrorModel.QuantizedActivations.MAX_RMS_SIGMAS) {
                    problems.add(String.format("rms e/sigma = %.3f over %d outputs, more than %.1f: the activations were "
                            + "quantized more coarsely than the model says", rms, total.sigmaCount, ErrorModel.QuantizedActivations.MAX_RMS_SIGMAS));
                }
                if (!problems.isEmpty()) {
                    String more = total.failedOutputs > total.problems.size() ? " (" + total.failedOutputs + " outputs out of bound in all)" : "";
                    return new ShapeResult(shape, seed, ShapeResult.Outcome.FAILED, total.worst, rms, matrix, String.join("; ", problems) + more);
                }
                return new ShapeResult(shape, seed, ShapeResult.Outcome.PASSED, total.worst, rms, matrix, "");
            }
        } catch (RuntimeException | LinkageError e) {
            return failed(shape, seed, matrix, "threw " + e + at(e));
        }
    }

    /** Running totals over the outputs of a shape. */
    private static final class Comparison {
        double worst;
        double sigmaSquares;
        int sigmaCount;
        int failedOutputs;
        final List<String> problems = new ArrayList<>();
    }

    private static void compare(ErrorModel model, float[] dec, float[] x, ActivationBatch out, int rows, int cols, int tokens,
                                int pass, Comparison c) {
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double ref = 0;
                for (int k = 0; k < cols; k++) {
                    ref += (double) dec[r * cols + k] * x[t * cols + k];
                }
                ErrorModel.Allowance a = model.allowance(dec, r * cols, x, t * cols, cols);
                float got = out.get(t, r);
                double e = got - ref;
                double ratio = Math.abs(e) / a.bound();
                if (!(ratio <= 1)) {
                    c.failedOutputs++;
                    if (c.problems.size() < 4) {
                        c.problems.add(String.format("pass %d, y[t=%d][r=%d] = %s, float64 reference %.9g, |e| = %.3g > bound %.3g",
                                pass, t, r, got, ref, Math.abs(e), a.bound()));
                    }
                    ratio = Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio;
                }
                c.worst = Math.max(c.worst, ratio);
                if (a.sigma() > 0) {
                    c.sigmaSquares += (e / a.sigma()) * (e / a.sigma());
                    c.sigmaCount++;
                }
            }
        }
    }

    private static ShapeResult failed(Shape shape, long seed, String matrix, String why) {
        return new ShapeResult(shape, seed, ShapeResult.Outcome.FAILED, Double.POSITIVE_INFINITY, Double.NaN, matrix, why);
    }

    private static String at(Throwable e) {
        StackTraceElement[] st = e.getStackTrace();
        return st.length == 0 ? "" : " at " + st[0];
    }

    private static void fillNaN(ActivationBatch b) {
        float[] nan = new float[b.capacity() * b.dim()];
        Arrays.fill(nan, Float.NaN);
        MemorySegment.copy(nan, 0, b.data(), ValueLayout.JAVA_FLOAT, 0, nan.length);
        b.changed();
    }

    private static double relativeError(float[] a, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }
}
