package io.flexq.samples.subscale;

import java.util.List;
import java.util.Locale;

/**
 * An experimental INT6 weight-scale layout (issue 12; not a file format): along a row, one fp16 scale {@code S} per
 * {@code group} weights and, inside a group, one unsigned integer sub-scale {@code s_j} per {@code chunk} weights,
 * stored in {@code subBits} bits as {@code s_j = subMin + stored}, so {@code s_j in [subMin, subMin + 2^subBits - 1]}.
 * The weight is {@code w = S * s_j * q}, {@code q in [-32, 31]}.
 *
 * <p>{@code subBits = 0} means no sub-scale ({@code s_j = 1}): the plain fp16-per-group layout, FQ6 today with
 * {@code group = 128}. With {@code group = 128} the integer contract of docs/FQ6.md holds with sub-scales: the group's
 * partial {@code P = sum_j s_j * (sum_{i in chunk j} q_i * a_i)} is an integer of magnitude at most
 * {@code 128 * 32 * 128 * subMax = 2^19 * subMax} (A8 codes), so int32 never overflows and for {@code subMax <= 32}
 * {@code |P| <= 2^24}: {@code (float) P} stays exact, and the epilogue {@code S * sa * P} is unchanged.
 *
 * @param name     short label for tables
 * @param group    weights per fp16 scale (a multiple of {@code chunk})
 * @param chunk    weights per sub-scale (= group when {@code subBits == 0})
 * @param subBits  bits per stored sub-scale (0: none)
 * @param subMin   smallest sub-scale value (1 for 1..16)
 */
public record SubScaleLayout(String name, int group, int chunk, int subBits, int subMin) {

    public SubScaleLayout {
        if (group <= 0 || chunk <= 0 || group % chunk != 0) {
            throw new IllegalArgumentException(name + ": group " + group + " must be a positive multiple of chunk " + chunk);
        }
        if (subBits < 0 || subBits > 6 || (subBits == 0 && (chunk != group || subMin != 1)) || (subBits > 0 && subMin < 1)) {
            throw new IllegalArgumentException(name + ": bad sub-scale " + subBits + " bits from " + subMin + " (chunk " + chunk + ")");
        }
    }

    /** The largest sub-scale. */
    public int subMax() {
        return subBits == 0 ? 1 : subMin + (1 << subBits) - 1;
    }

    /** Bits per weight of a row whose length is a multiple of {@code group}: 6 code bits + the scales' share. */
    public double bitsPerWeight() {
        return 6.0 + 16.0 / group + (double) subBits / chunk;
    }

    /** Whether it keeps FQ6's 128-group integer partial and epilogue (the kernels' structure). */
    public boolean keepsIntegerContract() {
        return group == 128 && subMax() <= 32;
    }

    public String describe() {
        String base = subBits == 0 ? "fp16 scale per " + group
                : "fp16 per " + group + " + " + subBits + "-bit sub-scale " + subMin + ".." + subMax() + " per " + chunk;
        return String.format(Locale.ROOT, "%s (%s, %.4f bpw)", name, base, bitsPerWeight());
    }

    /** The layouts this experiment knows, by name. */
    public static final List<SubScaleLayout> KNOWN = List.of(
            new SubScaleLayout("g128", 128, 128, 0, 1),
            new SubScaleLayout("g64", 64, 64, 0, 1),
            new SubScaleLayout("g32", 32, 32, 0, 1),
            new SubScaleLayout("s32x4", 128, 32, 4, 1),
            new SubScaleLayout("s16x4", 128, 16, 4, 1),
            new SubScaleLayout("s32x3", 128, 32, 3, 1),
            new SubScaleLayout("s16x3", 128, 16, 3, 1),
            new SubScaleLayout("s32x4o8", 128, 32, 4, 8),
            new SubScaleLayout("s16x4o8", 128, 16, 4, 8),
            new SubScaleLayout("s32x3o8", 128, 32, 3, 8),
            new SubScaleLayout("s16x3o8", 128, 16, 3, 8),
            new SubScaleLayout("s32x3o4", 128, 32, 3, 4),
            new SubScaleLayout("s16x3o4", 128, 16, 3, 4),
            new SubScaleLayout("s16x4o12", 128, 16, 4, 12),
            new SubScaleLayout("s16x4o16", 128, 16, 4, 16),
            new SubScaleLayout("s16x3o12", 128, 16, 3, 12),
            new SubScaleLayout("s16x5", 128, 16, 5, 1),
            new SubScaleLayout("s32x4o12", 128, 32, 4, 12));

    public static SubScaleLayout of(String name) {
        return KNOWN.stream().filter(l -> l.name.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown layout '" + name + "' (known: "
                        + KNOWN.stream().map(SubScaleLayout::name).toList() + ")"));
    }
}
