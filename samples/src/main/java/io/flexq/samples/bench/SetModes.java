package io.flexq.samples.bench;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.fq6.MetadataTypes;
import io.flexq.plugin.fq6.Preset;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An FQ6 file of a fixed preset re-labelled to another fixed preset: the linear layers' {@code flexq.act_bits.*} and
 * {@code flexq.preset} change, nothing else. GPTQ and the clipping search do not depend on the activation modes, so
 * this is the file {@code flexq quantize --preset P} writes from the same source and settings, without running the
 * calibration again (checked byte for byte on stories260K before use; see bench/results/quality-ref27M.md).
 *
 * <pre>
 *   java ... io.flexq.samples.bench.SetModes IN.gguf OUT.gguf PRESET
 * </pre>
 */
public final class SetModes {

    private SetModes() {
    }

    public static void main(String[] args) throws Exception {
        Preset preset = Preset.of(args[2]);
        var types = BuiltinTypes.registry(SetModes.class.getClassLoader());
        try (ModelFile in = ModelFiles.open(Path.of(args[0]), types)) {
            Map<String, Object> values = new LinkedHashMap<>(in.metadata().asMap());
            values.put(Fq6Keys.PRESET, preset.id());
            for (String t : in.tensors().keySet()) {
                if (LinearTensors.isLinear(t) && in.tensor(t).type().id() == Fq6Layout.TYPE_ID) {  // a Q8_0 (promoted) linear has no mode
                    values.put(ActivationMode.metadataKey(t), (long) preset.fixedMode(t).bits());
                }
            }
            Path out = Path.of(args[1]);
            Fq6File.write(new QuantizedModel(out, "gguf", values, MetadataTypes.of(in), in.tensors()), out);
        }
    }
}
