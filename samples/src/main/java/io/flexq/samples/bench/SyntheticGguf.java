package io.flexq.samples.bench;

import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.SyntheticModel;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.nio.file.Path;

/**
 * Writes a random-weight model at a real shape as a GGUF file, so file-based tools (`flexq quantize`,
 * `flexq bench --model`) can be measured at that shape: {@code SyntheticGguf SHAPE TYPE OUT [SEED]}, e.g.
 * {@code llama-3.2-1b F16 /tmp/synth-1b-f16.gguf}. The weights are noise: good for speed, never for quality.
 */
public final class SyntheticGguf {

    private SyntheticGguf() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SyntheticGguf SHAPE TYPE OUT [SEED]   (shapes: "
                    + ModelShape.presets().stream().map(ModelShape::name).toList() + ")");
            System.exit(2);
        }
        ModelShape shape = ModelShape.named(args[0]);
        TensorType type = BuiltinTypes.all().stream().filter(t -> t.name().equalsIgnoreCase(args[1])).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown type " + args[1]));
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 1L;
        try (SyntheticModel model = SyntheticModel.create(shape, type, seed)) {
            GgufWriter writer = new GgufWriter(64);
            model.metadata().asMap().forEach(writer::put);
            model.tensors().values().forEach(writer::addTensor);
            writer.write(Path.of(args[2]));
        }
        System.err.println("wrote " + args[2]);
    }
}
