package io.flexq.runtime.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/** A small HF safetensors model folder (config.json + model.safetensors) as a seed for the reader fuzz tests. */
public final class FuzzSeed {

    private FuzzSeed() {
    }

    public static Path smallModel(Path dir) throws IOException {
        HfModelWriter.Dims d = new HfModelWriter.Dims(32, 48, 2, 4, 2, 40);
        HfModelWriter.writeModel(dir, d, HfModelWriter.randomModel(d, false, "F32", 5), true, "");
        return dir;
    }
}
