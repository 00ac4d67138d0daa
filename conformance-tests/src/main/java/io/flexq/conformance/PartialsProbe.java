package io.flexq.conformance;

import io.flexq.plugin.cpu.FlexqCpuMatrix;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.WeightMatrix;

import java.util.Optional;

/**
 * Reads a backend's integer partials {@code P[t][r][g]} (docs/FQ6.md section 4; index
 * {@code (t * rows + r) * groups + g}) where the backend exposes them, so the kit can check them bit for bit.
 * The SPI has no such call (a backend need not materialise partials), so this is a table of the matrix
 * classes that do: FlexQ's CPU matrix today. A backend author adds theirs with {@link #or}.
 */
@FunctionalInterface
public interface PartialsProbe {

    /** The partials of {@code m} for {@code in}, or empty when {@code m} does not expose them. */
    Optional<int[]> partials(WeightMatrix m, ActivationBatch in);

    /** FlexQ's CPU matrices in W6A6 / W6A8. */
    static PartialsProbe standard() {
        return (m, in) -> m instanceof FlexqCpuMatrix f && f.activationMode().quantized()
                ? Optional.of(f.partials(in))
                : Optional.empty();
    }

    /** This probe, then {@code next} for matrices this one does not know. */
    default PartialsProbe or(PartialsProbe next) {
        return (m, in) -> {
            Optional<int[]> p = partials(m, in);
            return p.isPresent() ? p : next.partials(m, in);
        };
    }
}
