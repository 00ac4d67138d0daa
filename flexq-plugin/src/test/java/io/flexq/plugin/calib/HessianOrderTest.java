package io.flexq.plugin.calib;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The accumulator's reduction order is fixed and documented: per element, an fma chain over the tokens in vector
 * lanes, the lanes summed in lane order in fp32, added to a double. Recomputed here one element at a time, the way
 * the class says it sums, and compared bit for bit (dims that are and are not multiples of the row block, two
 * batches, a token count that pads the last vector).
 */
class HessianOrderTest {

    @Test
    void everyElementIsTheDocumentedSum() {
        var f = HessianAccumulator.F;
        for (int dim : new int[] {13, 64}) {
            Random rnd = new Random(dim);
            HessianAccumulator acc = new HessianAccumulator(dim);
            double[] want = new double[dim * dim];
            for (int batch = 0; batch < 2; batch++) {
                int t = 37 + batch;
                float[] x = new float[t * dim];
                for (int k = 0; k < x.length; k++) {
                    x[k] = (float) rnd.nextGaussian();
                }
                acc.add(x, t);
                int tp = (t + f.length() - 1) / f.length() * f.length();
                for (int i = 0; i < dim; i++) {
                    for (int j = i; j < dim; j++) {
                        float[] xi = new float[tp], xj = new float[tp];
                        for (int s = 0; s < t; s++) {
                            xi[s] = x[s * dim + i];
                            xj[s] = x[s * dim + j];
                        }
                        float[] lane = new float[f.length()];
                        for (int s = 0; s < tp; s += f.length()) {
                            for (int l = 0; l < f.length(); l++) {
                                lane[l] = Math.fma(xi[s + l], xj[s + l], lane[l]);
                            }
                        }
                        float sum = 0;
                        for (float v : lane) {
                            sum += v;
                        }
                        want[i * dim + j] += sum;
                    }
                }
            }
            double[] h = acc.hessian();
            double scale = 2.0 / acc.tokens();
            for (int i = 0; i < dim; i++) {
                for (int j = i; j < dim; j++) {
                    assertEquals(want[i * dim + j] * scale, h[i * dim + j], 0.0, "dim " + dim + " H[" + i + "][" + j + "]");
                    assertEquals(h[i * dim + j], h[j * dim + i], 0.0);
                }
            }
        }
    }
}
