package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightError;
import io.flexq.plugin.quant.WeightQuantization;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The token embedding ({@code token_embd.weight}) and output head ({@code output.weight}) of an FQ6 file.
 *
 * <p>A tied head is stored once. The head is tied when {@code output.weight} is absent, or when it is a byte-for-byte
 * copy of the embedding (same type, shape and bytes: llama.cpp's llama2.c converter writes the shared classifier
 * twice); the copy is then dropped, and the runtime, finding no {@code output.weight}, runs the head from
 * {@code token_embd.weight} (a 2-D tensor of a registered type, loaded by whatever weight backend takes that type).
 *
 * <p>The head's input is the final RMSNorm output; with its Hessian (GPTQ) the head, tied or not, is quantized with
 * error compensation, because the head error reaches the logits directly while an embedding row error passes
 * through every block's norm first. A separate embedding gets the plain group quantizer.
 */
public final class HeadQuantizer {

    public static final String EMBEDDING = "token_embd.weight";
    public static final String OUTPUT = "output.weight";

    private HeadQuantizer() {
    }

    /**
     * @param replaced  new tensors by name (same name and shape as in the source)
     * @param dropped   source tensors left out of the output (a tied head's copy)
     * @param headTensor the tensor the head runs from in the output ({@code output.weight} or {@code token_embd.weight})
     * @param errors    relative weight error of each replaced tensor against the source values
     * @param notes     how each tensor was stored, for the summary
     */
    public record Result(Map<String, TensorEntry> replaced, Set<String> dropped, boolean tied, String headTensor,
                         Map<String, WeightError> errors, Map<String, String> notes) {

        public static Result unchanged(ModelFile source) {
            boolean tied = HeadQuantizer.tied(source);
            return new Result(Map.of(), Set.of(), tied, tied ? EMBEDDING : OUTPUT, Map.of(), Map.of());
        }
    }

    /** Whether the head is the embedding: no output.weight, or one identical to token_embd.weight. */
    public static boolean tied(ModelFile source) {
        TensorEntry out = source.tensors().get(OUTPUT);
        if (out == null) {
            return true;
        }
        TensorEntry emb = source.tensor(EMBEDDING);
        return out.type().id() == emb.type().id() && java.util.Arrays.equals(out.ne(), emb.ne())
                && out.data().byteSize() == emb.data().byteSize() && out.data().mismatch(emb.data()) == -1;
    }

    /**
     * Quantizes the embedding and head of {@code source} to {@code format}.
     *
     * @param headGptq GPTQ and the Hessian of the head's input, when calibrated; applies to FQ6 only
     */
    public static Result quantize(ModelFile source, HeadFormat format, WeightQuantizer quantizer, Optional<HeadGptq> headGptq, TensorType fq6) {
        boolean tied = tied(source);
        String head = tied ? EMBEDDING : OUTPUT;
        Set<String> dropped = new LinkedHashSet<>();
        if (tied && source.tensors().containsKey(OUTPUT)) {
            dropped.add(OUTPUT);
        }
        Map<String, TensorEntry> replaced = new LinkedHashMap<>();
        Map<String, WeightError> errors = new LinkedHashMap<>();
        Map<String, String> notes = new LinkedHashMap<>();
        for (String name : tied ? new String[] {EMBEDDING} : new String[] {EMBEDDING, OUTPUT}) {
            TensorEntry t = source.tensor(name);
            if (t.ne().length != 2) {
                throw new ModelFormatException(source.path() + ": tensor " + name + " has " + t.ne().length + " dimensions, expected a matrix");
            }
            int rows = Math.toIntExact(t.rows());
            int cols = Math.toIntExact(t.cols());
            String role = tied ? "embedding + tied head" : name.equals(OUTPUT) ? "head" : "embedding";
            TensorType target = switch (format) {
                case FQ6 -> fq6;
                case Q8_0 -> QuantTypes.Q8_0;
                case Q6_K -> QuantTypes.Q6_K;
                case KEEP -> t.type();
            };
            if (format == HeadFormat.KEEP || t.type().id() == target.id()
                    || (!target.allowsPartialBlocks() && cols % target.blockSize() != 0)) {
                notes.put(name, role + ": kept " + t.type().name() + (format == HeadFormat.KEEP || t.type().id() == target.id() ? ""
                        : " (" + cols + " columns are not a multiple of " + target.name() + "'s " + target.blockSize() + ")"));
                continue;
            }
            if ((long) rows * cols > Integer.MAX_VALUE - 16) {
                throw new ModelFormatException(source.path() + ": " + name + " is too large to quantize in memory");
            }
            float[] w = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                t.type().dequantizeRow(t.data(), r, cols, w, r * cols);
            }
            byte[] bytes;
            WeightError err;
            try {
                if (format == HeadFormat.FQ6) {
                    boolean gptq = name.equals(head) && headGptq.isPresent();
                    WeightQuantization q = gptq ? headGptq.get().gptq().quantize(name, w, rows, cols, headGptq.get().hessian())
                            : quantizer.quantize(name, w, rows, cols);
                    bytes = q.weights().toFq6Bytes();
                    err = q.error();
                    notes.put(name, role + ": FQ6" + (gptq ? " (GPTQ against the head's input)" : ""));
                } else {
                    bytes = Quantizers.quantize(target, w, rows, cols);
                    err = WeightError.of(w, target, bytes, rows, cols);
                    notes.put(name, role + ": " + target.name());
                }
            } catch (IllegalArgumentException e) {
                Throwable cause = e.getCause() instanceof IllegalArgumentException inner ? inner : e;
                throw new ModelFormatException(source.path() + ": " + cause.getMessage(), e);
            }
            if (bytes.length != target.byteSize(cols, rows)) {
                throw new IllegalStateException(name + ": encoded " + bytes.length + " bytes, type " + target.name() + " needs "
                        + target.byteSize(cols, rows));
            }
            replaced.put(name, new TensorEntry(name, target, t.ne().clone(), MemorySegment.ofArray(bytes)));
            errors.put(name, err);
        }
        return new Result(replaced, dropped, tied, head, errors, notes);
    }

    /** GPTQ settings and the head input's Hessian (K x K, row-major). */
    public record HeadGptq(Gptq gptq, double[] hessian) {
    }
}
