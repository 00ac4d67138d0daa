package io.flexq.conformance;

import io.flexq.plugin.quant.ActivationMode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One case of the FQ6 golden vectors written by {@code tools/golden/fq6_golden.py}, an independent NumPy
 * implementation of docs/FQ6.md: a folder of little-endian raw arrays described by {@code case.txt}
 * (one {@code file NAME DTYPE SHAPE sha256:PREFIX WHAT} line each; the prefix is checked on load).
 *
 * <p>Weights {@code w} are {@code N x K} (rows x cols), activations {@code x} are {@code T x K}. FQ6 bytes are
 * given for RTN and for the default clipping search; codes, scales, partials and outputs of both activation
 * modes refer to the clipping-search weights.
 */
public final class Fq6GoldenCase {

    /** What the contract fixes for one activation mode. */
    public record Quantized(ActivationMode mode, byte[] codes, float[] scales, int[] partials, float[] y) {
    }

    private final String name;
    private final int k, n, t, groups;
    private final long seed;
    private final Path dir;
    private final Map<String, byte[]> files;

    private Fq6GoldenCase(String name, int k, int n, int t, int groups, long seed, Path dir, Map<String, byte[]> files) {
        this.name = name;
        this.k = k;
        this.n = n;
        this.t = t;
        this.groups = groups;
        this.seed = seed;
        this.dir = dir;
        this.files = files;
    }

    /** Every case listed in {@code dir/cases.txt}. */
    public static List<Fq6GoldenCase> loadAll(Path dir) {
        List<Fq6GoldenCase> cases = new ArrayList<>();
        for (String line : lines(dir.resolve("cases.txt"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                cases.add(load(dir.resolve(line.strip())));
            }
        }
        if (cases.isEmpty()) {
            throw new IllegalStateException(dir.resolve("cases.txt") + ": lists no cases");
        }
        return cases;
    }

    /** One case folder; every file is checked against its manifest line (size from the shape, sha256 prefix). */
    public static Fq6GoldenCase load(Path dir) {
        Path manifest = dir.resolve("case.txt");
        Map<String, String> keys = new LinkedHashMap<>();
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String line : lines(manifest)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.strip().split("\\s+", 6);
            if (f[0].equals("file")) {
                if (f.length < 5) {
                    throw new IllegalStateException(manifest + ": bad file line '" + line + "'");
                }
                files.put(f[1], readChecked(dir.resolve(f[1]), f[2], f[3], f[4]));
            } else if (f.length >= 2) {
                keys.put(f[0], f[1]);
            }
        }
        try {
            int k = Integer.parseInt(keys.get("K")), n = Integer.parseInt(keys.get("N"));
            int t = Integer.parseInt(keys.get("T")), groups = Integer.parseInt(keys.get("groups"));
            return new Fq6GoldenCase(keys.get("name"), k, n, t, groups, Long.parseLong(keys.get("seed")), dir, files);
        } catch (RuntimeException e) {
            throw new IllegalStateException(manifest + ": needs name, K, N, T, groups and seed lines, has " + keys.keySet(), e);
        }
    }

    public String name() { return name; }
    /** Columns (input dimension). */
    public int k() { return k; }
    /** Rows (outputs). */
    public int n() { return n; }
    /** Tokens. */
    public int t() { return t; }
    public int groups() { return groups; }
    /** Seed of the generator's inputs (numpy PCG64); informational. */
    public long seed() { return seed; }
    public Path dir() { return dir; }

    public float[] weights() { return floats("w.f32"); }
    public float[] activations() { return floats("x.f32"); }
    public byte[] fq6Rtn() { return bytes("fq6_rtn.bin"); }
    public byte[] fq6Clip() { return bytes("fq6_clip.bin"); }
    /** Unpacked codes of {@link #fq6Clip()}, {@code N x groups*128}, padding 0. */
    public byte[] weightCodesClip() { return bytes("wcodes_clip.i8"); }

    public Quantized quantized(ActivationMode mode) {
        String m = switch (mode) {
            case A6 -> "a6";
            case A8 -> "a8";
            case A16 -> throw new IllegalArgumentException("A16 activations are not quantized");
        };
        return new Quantized(mode, bytes("acodes_" + m + ".i8"), floats("ascales_" + m + ".f32"),
                ints("partials_" + m + ".i32"), floats("y_" + m + ".f32"));
    }

    /** W6A16 outputs in float64, {@code T x N}. */
    public double[] yA16() { return doubles("y_a16.f64"); }
    /** {@code sum_k |code * sw * x|} per output, the scale of the W6A16 rounding bound. */
    public double[] ysumA16() { return doubles("ysum_a16.f64"); }

    @Override
    public String toString() {
        return name + " (K " + k + ", N " + n + ", T " + t + ", seed " + seed + ")";
    }

    private byte[] bytes(String file) {
        byte[] b = files.get(file);
        if (b == null) {
            throw new IllegalStateException(dir.resolve("case.txt") + ": no file line for " + file);
        }
        return b.clone();
    }

    private ByteBuffer le(String file) {
        return ByteBuffer.wrap(bytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private float[] floats(String file) {
        var b = le(file).asFloatBuffer();
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }

    private int[] ints(String file) {
        var b = le(file).asIntBuffer();
        int[] a = new int[b.remaining()];
        b.get(a);
        return a;
    }

    private double[] doubles(String file) {
        var b = le(file).asDoubleBuffer();
        double[] a = new double[b.remaining()];
        b.get(a);
        return a;
    }

    private static byte[] readChecked(Path p, String dtype, String shape, String digest) {
        byte[] data;
        try {
            data = Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read golden file: " + e.getMessage(), e);
        }
        long elems = 1;
        for (String d : shape.split("x")) {
            elems *= Long.parseLong(d);
        }
        int width = switch (dtype) {
            case "uint8", "int8" -> 1;
            case "uint16", "float16" -> 2;
            case "int32", "float32" -> 4;
            case "float64" -> 8;
            default -> throw new IllegalStateException(p + ": unknown dtype " + dtype);
        };
        if (data.length != elems * width) {
            throw new IllegalStateException(p + ": " + data.length + " bytes, the manifest says " + dtype + " " + shape
                    + " = " + elems * width);
        }
        if (!digest.startsWith("sha256:")) {
            throw new IllegalStateException(p + ": manifest digest '" + digest + "' is not sha256:HEX");
        }
        String want = digest.substring(7);
        String got = sha256(data).substring(0, want.length());
        if (!got.equals(want)) {
            throw new IllegalStateException(p + ": sha256 starts " + got + ", the manifest says " + want
                    + " (a changed or line-ending-converted golden file; regenerate with tools/golden/fq6_golden.py)");
        }
        return data;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read golden manifest: " + e.getMessage(), e);
        }
    }

    /** The modes with quantized activations the cases hold. */
    public static List<ActivationMode> quantizedModes() {
        return List.of(ActivationMode.A6, ActivationMode.A8);
    }
}
