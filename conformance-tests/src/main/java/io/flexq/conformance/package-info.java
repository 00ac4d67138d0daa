/**
 * A backend-agnostic conformance kit: checks that a {@link io.flexq.runtime.spi.WeightBackend} multiplies
 * correctly, for every tensor type it supports, and that FQ6 backends follow docs/FQ6.md bit for bit
 * where the contract says so.
 *
 * <ul>
 *   <li>{@link io.flexq.conformance.BackendRoster}: the backends found through {@link java.util.ServiceLoader},
 *       each available or skipped with its own reason.</li>
 *   <li>{@link io.flexq.conformance.MatmulConformance}: random weights of a type (fixed seeds), encoded,
 *       decoded again by the type itself, multiplied by the backend; the result is compared with a float64
 *       product of the decoded weights within the bound of an {@link io.flexq.conformance.ErrorModel}.</li>
 *   <li>{@link io.flexq.conformance.Fq6GoldenCase} / {@link io.flexq.conformance.Fq6GoldenCheck}: golden
 *       vectors made by an independent NumPy implementation of the contract ({@code tools/golden/fq6_golden.py}).</li>
 *   <li>{@link io.flexq.conformance.EndToEnd} / {@link io.flexq.conformance.BackendConfiguration}: a whole model
 *       (stories260K) under each set of backends, against published values ({@link io.flexq.conformance.Stories260K}).</li>
 * </ul>
 *
 * A backend author runs the same checks from their own tests by handing their backend to these classes.
 */
package io.flexq.conformance;
