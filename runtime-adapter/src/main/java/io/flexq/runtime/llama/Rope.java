package io.flexq.runtime.llama;

/**
 * Rotary position embedding as GGUF / llama.cpp rope type 0 ("normal") and llama2.c apply it: within each head,
 * the first {@code ropeDim} dims form adjacent pairs (x[2i], x[2i+1]), i in [0, ropeDim/2), rotated by the angle
 * {@code pos * f_i} with {@code f_i = scaling(theta^(-2i / ropeDim))}:
 * <pre>
 *   x'[2i]   = x[2i] cos(a) - x[2i+1] sin(a)
 *   x'[2i+1] = x[2i] sin(a) + x[2i+1] cos(a)
 * </pre>
 * Dims past ropeDim are left as they are. (HF checkpoints rotate halves instead; their loaders permute the q/k
 * rows into this pair order, as llama.cpp's converter does.) Angles are computed in double.
 */
final class Rope implements RopeAngles {

    private final double[] freqs;
    private final int headSize;

    Rope(LlamaConfig config) {
        this.headSize = config.headSize();
        int pairs = config.ropeDim() / 2;
        this.freqs = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            double f = Math.pow(config.ropeTheta(), -2.0 * i / config.ropeDim());
            freqs[i] = config.ropeScaling().scale(i, f);
        }
    }

    @Override
    public int pairs() {
        return freqs.length;
    }

    /** cos and sin of every pair's angle at {@code position}, into cos[co, co + pairs) and sin[co, co + pairs). */
    @Override
    public void angles(int position, float[] cos, float[] sin, int co) {
        for (int i = 0; i < freqs.length; i++) {
            double a = position * freqs[i];
            cos[co + i] = (float) Math.cos(a);
            sin[co + i] = (float) Math.sin(a);
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code headSize} floats starting at x[offset], with the angles at cos/sin[co..]. */
    void rotate(float[] x, int offset, int heads, float[] cos, float[] sin, int co) {
        for (int h = 0; h < heads; h++) {
            int base = offset + h * headSize;
            for (int i = 0; i < freqs.length; i++) {
                float x0 = x[base + 2 * i];
                float x1 = x[base + 2 * i + 1];
                float ci = cos[co + i];
                float si = sin[co + i];
                x[base + 2 * i] = x0 * ci - x1 * si;
                x[base + 2 * i + 1] = x0 * si + x1 * ci;
            }
        }
    }
}
