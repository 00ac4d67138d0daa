package io.flexq.plugin.fq6;

import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The file-size budget of {@code flexq quantize --max-bytes}: a byte count, or the size the source model would have
 * as a llama.cpp file of a given type ({@code q6_k}, {@code q8_0}), so that "no larger than llama.cpp's Q6_K file
 * of the same model" needs no separate llama.cpp run.
 */
public sealed interface SizeBudget {

    /** The largest file size allowed for {@code source}'s FQ6 file. */
    long bytes(ModelFile source);

    /** The text given, for the metadata and messages. */
    String text();

    /** A byte count. */
    record Bytes(long n) implements SizeBudget {
        public Bytes {
            if (n <= 0) {
                throw new IllegalArgumentException("a byte budget must be positive, got " + n);
            }
        }

        @Override
        public long bytes(ModelFile source) {
            return n;
        }

        @Override
        public String text() {
            return Long.toString(n);
        }
    }

    /**
     * The size of the file {@code llama-quantize SOURCE OUT TYPE} writes (llama.cpp's layout): every tensor of the
     * source as the source stores it (a tied head written twice stays twice), matrices in {@code type} (rows that
     * are not whole blocks of it in Q8_0, else F16, as llama.cpp falls back), vectors F32, the source's metadata plus
     * {@code general.quantization_version}, alignment 32. Checked against llama-quantize's own files of the 27M
     * reference model (SizeBudgetTest).
     */
    record LlamaCppFile(String id, TensorType type) implements SizeBudget {
        @Override
        public long bytes(ModelFile source) {
            GgufWriter w = new GgufWriter();
            var types = MetadataTypes.of(source);
            for (var e : source.metadata().asMap().entrySet()) {
                if (!e.getKey().equals("general.alignment")) {
                    w.put(e.getKey(), e.getKey().equals("general.file_type") ? GgufType.UINT32 : types.get(e.getKey()), e.getValue());
                }
            }
            if (!source.metadata().has("general.file_type")) {
                w.put("general.file_type", GgufType.UINT32, 0L);
            }
            if (!source.metadata().has("general.quantization_version")) {
                w.put("general.quantization_version", GgufType.UINT32, 2L);
            }
            for (TensorEntry t : source.tensors().values()) {
                TensorType as = t.ne().length < 2 ? FloatTypes.F32
                        : t.cols() % type.blockSize() == 0 ? type
                        : t.cols() % QuantTypes.Q8_0.blockSize() == 0 ? QuantTypes.Q8_0 : FloatTypes.F16;
                w.addTensor(t.name(), as, t.ne(), () -> MemorySegment.NULL);
            }
            return w.fileSize();
        }

        @Override
        public String text() {
            return id;
        }
    }

    /** {@code q6_k}, {@code q8_0}, or a positive byte count (digits, optionally with _ or , between them). */
    static SizeBudget parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "q6_k":
                return new LlamaCppFile("q6_k", QuantTypes.Q6_K);
            case "q8_0":
                return new LlamaCppFile("q8_0", QuantTypes.Q8_0);
            default:
                break;
        }
        String digits = t.replace("_", "").replace(",", "");
        if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("expected a byte count (e.g. 24215360) or q6_k / q8_0 (the size of llama.cpp's file of "
                    + "that type for the same model), got '" + text + "'");
        }
        try {
            return new Bytes(Long.parseLong(digits));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("byte count out of range: '" + text + "'");
        }
    }
}
