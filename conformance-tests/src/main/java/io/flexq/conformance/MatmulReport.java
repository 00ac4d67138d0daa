package io.flexq.conformance;

import java.util.List;

/** The shapes of one (backend, type, variant) run. */
public record MatmulReport(String backend, String type, String variant, String model, List<ShapeResult> shapes) {

    public MatmulReport {
        shapes = List.copyOf(shapes);
    }

    public List<ShapeResult> failures() {
        return shapes.stream().filter(ShapeResult::failed).toList();
    }

    public long checked() {
        return shapes.stream().filter(s -> s.outcome() != ShapeResult.Outcome.UNSUPPORTED).count();
    }

    public long unsupported() {
        return shapes.size() - checked();
    }

    public double worstRatio() {
        return shapes.stream().filter(s -> s.outcome() != ShapeResult.Outcome.UNSUPPORTED)
                .mapToDouble(ShapeResult::worstRatio).max().orElse(Double.NaN);
    }

    public double worstRmsSigmas() {
        return shapes.stream().mapToDouble(ShapeResult::rmsSigmas).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    /** The matrix description the backend gave for the first loaded shape. */
    public String matrix() {
        return shapes.stream().map(ShapeResult::matrix).filter(m -> !m.isEmpty()).findFirst().orElse("");
    }

    /**
     * One line: counts and the worst ratios. A quantized-activation variant whose error is far below what its
     * rounding must cause (rms e/sigma under {@value #NOT_QUANTIZED}) gets a note: the backend did not quantize
     * the activations (it computed W6A16); that is within the bound, so not a failure here, but it is not the mode asked.
     */
    public String summary() {
        double rms = worstRmsSigmas();
        return String.format("%s / %s / %s: %d shapes checked, %d unsupported, %d failed; worst |e|/bound %.3g%s%s [%s]",
                backend, type, variant, checked(), unsupported(), failures().size(), worstRatio(),
                Double.isNaN(rms) ? "" : String.format(", worst rms e/sigma %.3f", rms),
                rms < NOT_QUANTIZED ? " (NOTE: far less error than activation quantization makes: activations not quantized)" : "",
                matrix());
    }

    /** rms e/sigma below this means the activations were not quantized at all. */
    static final double NOT_QUANTIZED = 0.05;

    /** The summary and every failed shape, for an assertion message. */
    public String failureReport() {
        StringBuilder sb = new StringBuilder(summary()).append("\nerror model: ").append(model);
        failures().forEach(f -> sb.append("\n  ").append(f));
        return sb.toString();
    }
}
