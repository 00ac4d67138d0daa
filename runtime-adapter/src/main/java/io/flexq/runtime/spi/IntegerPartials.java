package io.flexq.runtime.spi;

import java.util.Optional;

/**
 * Optional for a {@link WeightMatrix} whose product is an integer GEMM over quantized weights and activations
 * (FlexQ's W6A6 / W6A8, docs/FQ6.md section 4): it reports the int32 partial sums of each K group, so a
 * conformance kit can check them bit for bit against golden vectors. A matrix implements this next to
 * {@link WeightMatrix}; the kit asks with {@code instanceof IntegerPartials}, never by the backend's class.
 */
public interface IntegerPartials {

    /**
     * The integer partials {@code P[t][r][g]} this matrix's kernel computes for {@code in}, index
     * {@code (t * rows + r) * groups + g}; empty when this matrix does not quantize its activations (W6A16).
     */
    Optional<int[]> integerPartials(ActivationBatch in);
}
