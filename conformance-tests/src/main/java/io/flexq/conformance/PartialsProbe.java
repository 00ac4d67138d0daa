package io.flexq.conformance;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.IntegerPartials;
import io.flexq.runtime.spi.WeightMatrix;

import java.util.Optional;

/**
 * Reads a backend's integer partials {@code P[t][r][g]} (docs/FQ6.md section 4; index
 * {@code (t * rows + r) * groups + g}) where the backend exposes them, so the kit can check them bit for bit.
 * A backend need not materialise partials; one that does implements the runtime SPI's optional
 * {@link IntegerPartials} on its matrices (FlexQ's CPU and CUDA matrices do), and {@link #standard()} asks
 * through it. {@link #or} adds another way for a matrix that does not implement it.
 */
@FunctionalInterface
public interface PartialsProbe {

    /** The partials of {@code m} for {@code in}, or empty when {@code m} does not expose them. */
    Optional<int[]> partials(WeightMatrix m, ActivationBatch in);

    /** Any matrix that implements {@link IntegerPartials} (empty for the others, and for W6A16). */
    static PartialsProbe standard() {
        return (m, in) -> m instanceof IntegerPartials p ? p.integerPartials(in) : Optional.empty();
    }

    /** This probe, then {@code next} for matrices this one does not know. */
    default PartialsProbe or(PartialsProbe next) {
        return (m, in) -> {
            Optional<int[]> p = partials(m, in);
            return p.isPresent() ? p : next.partials(m, in);
        };
    }
}
