package io.flexq.samples.bench;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.fq6.HeadFormat;
import io.flexq.plugin.fq6.HeadQuantizer;
import io.flexq.plugin.fq6.MetadataTypes;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The measurement behind the default {@code --head}: one FQ6 file written by {@code flexq quantize} (its linear
 * layers and everything else kept byte for byte) with its embedding / tied head swapped for each other format,
 * encoded from the source model: q8_0, q6_k, keep (the source's F16, stored once) and fq6-clip (FQ6 by the clipping
 * search alone, no GPTQ). Writes {@code PREFIX-head-FORMAT.gguf} for each; compare them with {@link CompareFiles}.
 *
 * <pre>
 *   java ... io.flexq.samples.bench.HeadVariants SOURCE.gguf FQ6FILE.gguf OUTPREFIX
 * </pre>
 */
public final class HeadVariants {

    private HeadVariants() {
    }

    public static void main(String[] args) throws Exception {
        var types = BuiltinTypes.registry(HeadVariants.class.getClassLoader());
        var fq6 = types.find(Fq6Layout.TYPE_ID).orElseThrow();
        try (ModelFile source = ModelFiles.open(Path.of(args[0]), types); ModelFile file = ModelFiles.open(Path.of(args[1]), types)) {
            for (String variant : new String[] {"q8_0", "q6_k", "keep", "fq6-clip"}) {
                HeadFormat format = variant.equals("fq6-clip") ? HeadFormat.FQ6 : HeadFormat.of(variant);
                HeadQuantizer.Result r = HeadQuantizer.quantize(source, format, WeightQuantizer.clipping(), Optional.empty(), fq6);
                TensorEntry emb = r.replaced().getOrDefault(HeadQuantizer.EMBEDDING, source.tensor(HeadQuantizer.EMBEDDING));
                Map<String, TensorEntry> tensors = new LinkedHashMap<>(file.tensors());
                tensors.put(HeadQuantizer.EMBEDDING, emb);
                Map<String, Object> values = new LinkedHashMap<>(file.metadata().asMap());
                Map<String, GgufType> mdTypes = new LinkedHashMap<>(MetadataTypes.of(file));
                values.put(Fq6Keys.HEAD_FORMAT, variant);
                String act = ActivationMode.metadataKey(HeadQuantizer.EMBEDDING);
                if (emb.type().id() != Fq6Layout.TYPE_ID) {
                    values.remove(act);
                    mdTypes.remove(act);
                }
                String err = Fq6Keys.WEIGHT_ERROR + HeadQuantizer.EMBEDDING;
                if (r.errors().containsKey(HeadQuantizer.EMBEDDING)) {
                    values.put(err, (float) r.errors().get(HeadQuantizer.EMBEDDING).relativeFrobenius());
                } else {
                    values.remove(err);
                    mdTypes.remove(err);
                }
                Path out = Path.of(args[2] + "-head-" + variant + ".gguf");
                Fq6File.write(new QuantizedModel(out, "gguf", values, mdTypes, tensors), out);
                System.out.println(out + ": " + r.notes().values() + " error " + r.errors().values());
            }
        }
    }
}
