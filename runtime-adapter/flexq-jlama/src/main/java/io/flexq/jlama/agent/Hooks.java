package io.flexq.jlama.agent;

import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.tensor.operations.TensorOperations;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import io.flexq.jlama.FlexqJlama;
import io.flexq.jlama.FlexqOperations;
import io.flexq.jlama.Mode;

import java.io.File;

/**
 * What the rewritten Jlama methods call just before they return (see {@link JlamaRewriter}). Public and
 * static because Jlama's own bytecode calls them.
 */
public final class Hooks {

    /** Set once by {@link FlexqAgent#premain}. */
    static volatile Mode mode = Mode.A8;

    private Hooks() {
    }

    /** {@code SafeTensorSupport.loadWeights(dir)} returns this instead of {@code jlama}. */
    public static WeightLoader loader(WeightLoader jlama, File dir) {
        if (!(TensorOperationsProvider.get() instanceof FlexqOperations)) {
            // the operations were left unrewritten (see FlexqAgent): FQ6 tensors would reach Jlama's own kernels
            System.err.println("flexq-jlama agent: Jlama's operations are not FlexQ's; " + dir + " loads without FQ6");
            return jlama;
        }
        return FlexqJlama.wrap(jlama, dir, mode);
    }

    /** {@code TensorOperationsProvider.pickFastestImplementation()} returns this instead of {@code jlama}. */
    public static TensorOperations operations(TensorOperations jlama) {
        return FlexqJlama.wrapOperations(jlama);
    }
}
