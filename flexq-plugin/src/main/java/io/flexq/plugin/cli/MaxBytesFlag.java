package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.SizeBudget;

import java.util.Locale;
import java.util.Optional;

/**
 * What {@code --max-bytes} said: a budget to meet ({@code --max-bytes SIZE}: an error if it cannot be), none
 * ({@code --max-bytes none}: plain FQ6), or nothing (the default: {@link DefaultBudget}'s {@code q6_k} where it is
 * bounded and possible, else plain FQ6 with one stderr line saying why).
 */
sealed interface MaxBytesFlag {

    record Given(SizeBudget spec) implements MaxBytesFlag {
    }

    record None() implements MaxBytesFlag {
    }

    record Default() implements MaxBytesFlag {
    }

    /** The words that turn the default off. */
    String NONE = "none";

    /** @throws IllegalArgumentException for text that is neither {@code none} nor a {@link SizeBudget} */
    static MaxBytesFlag parse(Optional<String> value) {
        if (value.isEmpty()) {
            return new Default();
        }
        String t = value.get().trim().toLowerCase(Locale.ROOT);
        if (t.equals(NONE) || t.equals("off")) {
            return new None();
        }
        try {
            return new Given(SizeBudget.parse(value.get()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "; or none (no budget: every linear FQ6)", e);
        }
    }
}
