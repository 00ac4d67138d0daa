package io.flexq.runtime.llama;

/**
 * The rotation angles of rotary position embedding, as the host path computes them (in double, then rounded to
 * float), so a device path can take the same cos/sin values instead of recomputing them with other rounding.
 */
public interface RopeAngles {

    /** Rotated pairs per head: the first {@code 2 * pairs()} dims of each head rotate, in adjacent pairs. */
    int pairs();

    /** cos and sin of every pair's angle at {@code position}, into cos[co, co + pairs) and sin[co, co + pairs). */
    void angles(int position, float[] cos, float[] sin, int co);
}
