package io.flexq.runtime.llama;

/**
 * How rotary frequencies are stretched for contexts longer than the model was pre-trained on.
 * The unscaled frequency of pair i (of a head's first {@code ropeDim} dims) is
 * {@code f_i = theta^(-2i / ropeDim)}; a scaling maps it to the frequency actually used.
 */
public sealed interface RopeScaling {

    /** The frequency used for pair {@code i} whose unscaled frequency is {@code freq}. */
    double scale(int i, double freq);

    /** No scaling: f_i as is. */
    record None() implements RopeScaling {
        @Override
        public double scale(int i, double freq) {
            return freq;
        }
    }

    /** Linear ("position interpolation"): every frequency divided by {@code factor}, i.e. positions divided by it. */
    record Linear(double factor) implements RopeScaling {
        @Override
        public double scale(int i, double freq) {
            return freq / factor;
        }
    }

    /**
     * Llama 3.1's scaling. With wavelength {@code w = 2 pi / f}, {@code lowW = originalContext / lowFreqFactor},
     * {@code highW = originalContext / highFreqFactor}:
     * <pre>
     *   w &lt; highW          : f                        (high frequencies kept)
     *   w &gt; lowW           : f / factor               (low frequencies interpolated)
     *   otherwise          : (1 - s) f / factor + s f,  s = (originalContext / w - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
     * </pre>
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalContext) implements RopeScaling {
        @Override
        public double scale(int i, double freq) {
            double wavelength = 2 * Math.PI / freq;
            double lowWavelength = originalContext / lowFreqFactor;
            double highWavelength = originalContext / highFreqFactor;
            if (wavelength < highWavelength) {
                return freq;
            }
            if (wavelength > lowWavelength) {
                return freq / factor;
            }
            double s = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            return (1 - s) * freq / factor + s * freq;
        }
    }

    /**
     * Per-pair divisors stored in the model, as llama.cpp's converter writes them for Llama 3.1+
     * (tensor {@code rope_freqs.weight}, ropeDim / 2 floats): {@code f_i / divisors[i]}.
     */
    record Divisors(float[] divisors) implements RopeScaling {
        @Override
        public double scale(int i, double freq) {
            return freq / divisors[i];
        }
    }
}
