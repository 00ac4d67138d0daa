package io.flexq.plugin.calib;

import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * How much A8 the user is willing to pay for, as given to {@code flexq quantize --budget}:
 * <ul>
 *   <li>{@code kld=X}: keep A8 on the fewest layers such that the predicted mean KLD of the A6 layers
 *       (the sum of their sensitivity scores, each measured against the all-A8 model) is at most X nats;</li>
 *   <li>{@code a8=P%} or {@code a8=N}: at most P percent of the linear layers (rounded down), or N layers, keep A8,
 *       the most sensitive ones;</li>
 *   <li>both, comma-separated ({@code kld=0.01,a8=25%}): meet the KLD target, but never exceed the A8 cap.</li>
 * </ul>
 * The default is {@link #DEFAULT} = {@code a8=25%}: a fixed, predictable cost (A8 layers cost 8/6 of A6 layers in
 * the bit-serial kernel) of nearly twice the published recipe's share (ffn_down only, 1 of 7 linears per block),
 * spent where the measurement says it matters.
 */
public record Budget(OptionalDouble kldTarget, OptionalDouble a8Share, OptionalInt a8Count) {

    public static final String DEFAULT_TEXT = "a8=25%";
    public static final Budget DEFAULT = parse(DEFAULT_TEXT);

    public Budget {
        if (kldTarget.isEmpty() && a8Share.isEmpty() && a8Count.isEmpty()) {
            throw new IllegalArgumentException("a budget needs kld=X and/or a8=P% (or a8=N)");
        }
        if (a8Share.isPresent() && a8Count.isPresent()) {
            throw new IllegalArgumentException("give the A8 cap once, as a share (a8=P%) or a count (a8=N)");
        }
    }

    /** Parses the {@code --budget} syntax; errors say what was expected. */
    public static Budget parse(String text) {
        OptionalDouble kld = OptionalDouble.empty();
        OptionalDouble share = OptionalDouble.empty();
        OptionalInt count = OptionalInt.empty();
        for (String part : text.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            int eq = p.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + part.trim() + "' is not KEY=VALUE; expected kld=X, a8=P% or a8=N");
            }
            String key = p.substring(0, eq).trim();
            String value = p.substring(eq + 1).trim();
            try {
                switch (key) {
                    case "kld" -> {
                        double v = Double.parseDouble(value);
                        if (!(v >= 0) || Double.isInfinite(v)) {
                            throw new IllegalArgumentException("kld target must be a finite number >= 0, got " + value);
                        }
                        kld = OptionalDouble.of(v);
                    }
                    case "a8" -> {
                        if (value.endsWith("%")) {
                            double v = Double.parseDouble(value.substring(0, value.length() - 1).trim());
                            if (!(v >= 0 && v <= 100)) {
                                throw new IllegalArgumentException("a8 share must be within 0%..100%, got " + value);
                            }
                            share = OptionalDouble.of(v / 100);
                        } else {
                            int n = Integer.parseInt(value);
                            if (n < 0) {
                                throw new IllegalArgumentException("a8 count must be >= 0, got " + value);
                            }
                            count = OptionalInt.of(n);
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown budget key '" + key + "'; expected kld=X, a8=P% or a8=N");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + part.trim() + "': '" + value + "' is not a number");
            }
        }
        return new Budget(kld, share, count);
    }

    /** The most layers that may keep A8 out of {@code layers} (all of them when only a KLD target is set). */
    public int maxA8(int layers) {
        if (a8Count.isPresent()) {
            return Math.min(layers, a8Count.getAsInt());
        }
        if (a8Share.isPresent()) {
            // the epsilon keeps 25% of 56 = 14 exactly 14 despite binary fractions
            return (int) Math.floor(a8Share.getAsDouble() * layers + 1e-9);
        }
        return layers;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        kldTarget.ifPresent(v -> sb.append("kld=").append(v));
        a8Share.ifPresent(v -> sb.append(sb.isEmpty() ? "" : ",").append("a8=").append(trim(v * 100)).append('%'));
        a8Count.ifPresent(v -> sb.append(sb.isEmpty() ? "" : ",").append("a8=").append(v));
        return sb.toString();
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
