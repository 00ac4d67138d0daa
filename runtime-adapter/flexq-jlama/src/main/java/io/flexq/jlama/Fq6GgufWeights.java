package io.flexq.jlama;

import com.github.tjake.jlama.tensor.AbstractTensor;
import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * FQ6 weights read from a GGUF written by {@code flexq quantize} from the same HF folder, so a large model is
 * not quantized again at every start.
 *
 * <ul>
 * <li>Same model: the file's {@code flexq.source_sha256} must equal the folder's hash, computed as
 *   {@code flexq quantize} hashes a folder (each regular file's name, a NUL, its bytes, in name order),
 *   leaving out the FQ6 file itself when it lies in the folder; and every tensor's shape must equal the
 *   checkpoint's.</li>
 * <li>Names: GGUF {@code blk.N.attn_q.weight} etc. (see {@link LinearNames}).</li>
 * <li>q and k rows: our loaders store them in GGUF's adjacent-pair RoPE order; Jlama rotates halves, so rows
 *   go back to HF order, {@code hf_row[h*d + t*(d/2) + i] = gguf_row[h*d + 2i + t]} (codes and scales move
 *   with their row, which is exact).</li>
 * <li>Modes: a fixed mode overrides the file; {@code auto} uses the file's {@code flexq.act_bits.*}.</li>
 * </ul>
 */
final class Fq6GgufWeights implements Fq6Weights {

    private final Fq6File file;
    private final Mode mode;
    private final Placement backends;
    private final TensorType fq6;
    private final int heads;
    private final int kvHeads;
    private final int headDim;

    private Fq6GgufWeights(Fq6File file, Mode mode, Placement backends, TensorType fq6) {
        this.file = file;
        this.mode = mode;
        this.backends = backends;
        this.fq6 = fq6;
        var md = file.gguf().metadata();
        this.heads = md.getInt("llama.attention.head_count");
        this.kvHeads = md.getInt("llama.attention.head_count_kv", heads);
        this.headDim = md.getInt("llama.embedding_length") / heads;
    }

    static Fq6GgufWeights open(Path fq6File, Path dir, Mode mode, Placement backends, TensorType fq6) {
        Fq6File f = Fq6File.open(fq6File, BuiltinTypes.registry(Fq6GgufWeights.class.getClassLoader()));
        try {
            var md = f.gguf().metadata();
            if (!md.has(Fq6Keys.SOURCE_SHA256)) {
                throw new ModelFormatException(fq6File + ": no " + Fq6Keys.SOURCE_SHA256 + "; cannot tell which model it was made from");
            }
            String want = md.getString(Fq6Keys.SOURCE_SHA256);
            String have = folderHash(dir, fq6File);
            if (!want.equalsIgnoreCase(have)) {
                throw new ModelFormatException(fq6File + " was made from a model with sha256 " + want + ", but " + dir + " hashes to " + have
                        + "; quantize this folder with `flexq quantize " + dir + " OUT.gguf` or remove the FQ6 file");
            }
            return new Fq6GgufWeights(f, mode, backends, fq6);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    @Override
    public WeightMatrix matrix(String hfName, String ggufName, int[] hfShape, Supplier<AbstractTensor> original) {
        TensorEntry t = file.gguf().tensors().get(ggufName);
        if (t == null) {
            throw new ModelFormatException(file.gguf().path() + ": no tensor " + ggufName + " (Jlama's " + hfName + ")");
        }
        if (t.type().id() != fq6.id()) {
            throw new ModelFormatException(file.gguf().path() + ": " + ggufName + " is " + t.type().name() + ", not FQ6");
        }
        int rows = Math.toIntExact(t.rows()), cols = Math.toIntExact(t.cols());
        if (hfShape.length != 2 || hfShape[0] != rows || hfShape[1] != cols) {
            throw new ModelFormatException(file.gguf().path() + ": " + ggufName + " is " + rows + "x" + cols + " but the checkpoint's "
                    + hfName + " is " + java.util.Arrays.toString(hfShape));
        }
        MemorySegment bytes = t.data();
        int h = ggufName.endsWith(".attn_q.weight") ? heads : ggufName.endsWith(".attn_k.weight") ? kvHeads : 0;
        if (h > 0) {
            if (rows != h * headDim) {
                throw new ModelFormatException(file.gguf().path() + ": " + ggufName + " has " + rows + " rows, expected " + h + " heads x " + headDim);
            }
            bytes = MemorySegment.ofArray(toHfRowOrder(file.weights(ggufName), ggufName).toFq6Bytes());
        }
        ActivationMode m = mode.fixed().orElseGet(() -> file.mode(ggufName));
        return backends.load(new WeightSource(ggufName, fq6, rows, cols, bytes, Map.of(ActivationMode.metadataKey(ggufName), (long) m.bits())));
    }

    private FlexqWeights toHfRowOrder(FlexqWeights w, String name) {
        int rows = w.rows(), groups = w.groups(), padded = w.paddedCols();
        byte[] codes = w.copyCodes();
        short[] scales = w.copyScalesFp16();
        byte[] c2 = new byte[codes.length];
        short[] s2 = new short[scales.length];
        for (int r = 0; r < rows; r++) {
            int src = ggufRow(r, headDim);
            System.arraycopy(codes, src * padded, c2, r * padded, padded);
            System.arraycopy(scales, src * groups, s2, r * groups, groups);
        }
        return FlexqWeights.of(name, rows, w.cols(), c2, s2);
    }

    /** The GGUF row holding HF row {@code hfRow} (class comment). */
    static int ggufRow(int hfRow, int headDim) {
        int h = hfRow / headDim, j = hfRow % headDim, half = headDim / 2;
        return h * headDim + 2 * (j % half) + j / half;
    }

    /** {@code flexq quantize}'s hash of a folder ({@code SourceHash}), skipping {@code skip}. */
    static String folderHash(Path dir, Path skip) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                Path skipReal = skip.toAbsolutePath().normalize();
                files = s.filter(Files::isRegularFile).filter(p -> !p.toAbsolutePath().normalize().equals(skipReal)).sorted().toList();
            }
            byte[] buf = new byte[1 << 20];
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                try (InputStream in = Files.newInputStream(f)) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        md.update(buf, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot hash the model folder: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public String describe() {
        return "read from " + file.gguf().path() + ", " + (mode == Mode.AUTO ? "modes from the file" : "W6" + mode);
    }

    @Override
    public void close() {
        file.close();
    }
}
