package io.flexq.cuda;

import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.LogitModel;
import io.flexq.plugin.eval.Windows;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A reference model's logits on evaluation windows, in a file, so a quality figure can be computed where the reference
 * model itself cannot go (the 27M model's F16 file, 59 MB, does not fit the GPU host's carry beside the test bundle).
 * Windows follow the {@code flexq eval} protocol ({@link Windows}: ctx tokens, BOS first, the second half scored).
 *
 * <p>Layout, big-endian ints then little-endian floats: magic {@code FQRL}, version 1, vocab, ctx, first scored
 * position, scored positions per window, window count; per window its ctx input tokens, its scored targets, and the
 * scored rows' logits (scored x vocab fp32, bit for bit as the model produced them).
 */
record ReferenceLogits(int vocab, int ctx, int first, int scored, List<Window> windows) {

    record Window(int[] input, int[] targets, float[][] logits) {
    }

    private static final int MAGIC = 0x4651524C, VERSION = 1;  // "FQRL"

    /**
     * Writes a reference file on the host (no GPU needed): the model's logits on the first WINDOWS 512-token windows
     * of TEXT, tokenized by the model's own tokenizer.
     *
     * <pre>java ... io.flexq.cuda.ReferenceLogits MODEL.gguf TEXT WINDOWS OUT</pre>
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: ReferenceLogits MODEL.gguf TEXT WINDOWS OUT");
            System.exit(2);
        }
        ClassLoader cl = ReferenceLogits.class.getClassLoader();
        try (ModelFile f = ModelFiles.open(Path.of(args[0]), BuiltinTypes.registry(cl));
             Llama model = Llama.load(f, cl, s -> { });
             LlamaLogits logits = new LlamaLogits(model, 512)) {
            Tokenizer tok = Tokenizers.fromMetadata(f.metadata());
            int[] tokens = tok.encodeWithBos(Files.readString(Path.of(args[1]), StandardCharsets.UTF_8), false);
            ReferenceLogits ref = compute(logits, tokens, 512, Integer.parseInt(args[2]), tok.bos());
            ref.write(Path.of(args[3]));
            System.out.println(args[3] + ": " + ref.windows().size() + " windows x " + ref.scored() + " scored positions x " + ref.vocab()
                    + " logits of " + args[0] + " on " + args[1] + " (" + model.describe().getFirst() + ")");
        }
    }

    /** Runs {@code model} on the first {@code count} windows of {@code tokens}. */
    static ReferenceLogits compute(LogitModel model, int[] tokens, int ctx, int count, int bos) {
        Windows w = Windows.of(tokens, ctx, count, bos);
        int vocab = model.vocabSize(), first = w.firstScored(), scored = w.scoredPerWindow();
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < w.count(); i++) {
            int[] input = w.input(i);
            int[] targets = new int[scored];
            float[][] rows = new float[scored][];
            int win = i;
            model.forward(input, first, (p, l) -> {
                if (p < first + scored) {
                    rows[p - first] = l.clone();
                    targets[p - first] = w.target(win, p);
                }
            });
            out.add(new Window(input, targets, rows));
        }
        return new ReferenceLogits(vocab, ctx, first, scored, out);
    }

    void write(Path file) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(os))) {
            for (int v : new int[]{MAGIC, VERSION, vocab, ctx, first, scored, windows.size()}) {
                out.writeInt(v);
            }
            ByteBuffer row = ByteBuffer.allocate(vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (Window w : windows) {
                for (int t : w.input) {
                    out.writeInt(t);
                }
                for (int t : w.targets) {
                    out.writeInt(t);
                }
                for (float[] r : w.logits) {
                    row.clear();
                    row.asFloatBuffer().put(r, 0, vocab);
                    out.write(row.array());
                }
            }
        }
    }

    /** Reads a file written by {@link #write}; a wrong magic, version, size or truncation names the file and offset. */
    static ReferenceLogits read(Path file) throws IOException {
        long size = Files.size(file);
        try (InputStream is = Files.newInputStream(file); DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(is))) {
            int magic = in.readInt(), version = in.readInt();
            if (magic != MAGIC || version != VERSION) {
                throw new IOException(file + ": not a reference-logits file (magic " + Integer.toHexString(magic) + ", version " + version
                        + "; expected " + Integer.toHexString(MAGIC) + ", " + VERSION + ")");
            }
            int vocab = in.readInt(), ctx = in.readInt(), first = in.readInt(), scored = in.readInt(), count = in.readInt();
            long expected = 28 + (long) count * (4L * ctx + 4L * scored + 4L * scored * vocab);
            if (vocab <= 0 || ctx <= 0 || first < 0 || scored <= 0 || first + scored > ctx || count < 0 || expected != size) {
                throw new IOException(file + ": header vocab=" + vocab + " ctx=" + ctx + " first=" + first + " scored=" + scored + " windows=" + count
                        + " implies " + expected + " bytes, the file has " + size);
            }
            List<Window> windows = new ArrayList<>();
            byte[] row = new byte[vocab * 4];
            for (int i = 0; i < count; i++) {
                int[] input = new int[ctx], targets = new int[scored];
                for (int j = 0; j < ctx; j++) {
                    input[j] = in.readInt();
                }
                for (int j = 0; j < scored; j++) {
                    targets[j] = in.readInt();
                }
                float[][] logits = new float[scored][vocab];
                for (int j = 0; j < scored; j++) {
                    in.readFully(row);
                    ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(logits[j]);
                }
                windows.add(new Window(input, targets, logits));
            }
            return new ReferenceLogits(vocab, ctx, first, scored, windows);
        }
    }
}
