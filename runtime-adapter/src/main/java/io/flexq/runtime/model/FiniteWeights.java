package io.flexq.runtime.model;

/**
 * Refuses a model whose tensors hold a NaN or an infinity. Such a file is corrupt (no trainer or converter writes
 * one on purpose) and, loaded, turns every logit into NaN: generation prints the unknown token forever. Checked
 * once at load over every tensor of the file, by each type's {@link io.flexq.runtime.spi.TensorType#firstNonFiniteRow}
 * (a scan of raw bits for the built-in types; its cost is in bench/results/hardening.md).
 */
public final class FiniteWeights {

    private FiniteWeights() {
    }

    /** @throws ModelFormatException naming the file, the tensor and the first bad row */
    public static void check(ModelFile file) {
        for (TensorEntry t : file.tensors().values()) {
            long row = t.type().firstNonFiniteRow(t.data(), t.cols(), t.rows());
            if (row >= 0) {
                throw new ModelFormatException(file.path() + ": tensor " + t.name() + " (" + t.type().name() + " "
                        + java.util.Arrays.toString(t.ne()) + ") holds a NaN or an infinity in row " + row
                        + "; the weights are corrupt");
            }
        }
    }
}
