package io.flexq.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;

import java.io.File;
import java.util.UUID;

/** A plain Jlama program, as a user writes it: nothing of FlexQ in it. Args: MODEL_DIR PROMPT TOKENS. */
public final class UnchangedJlamaMain {

    public static void main(String[] args) {
        AbstractModel model = ModelSupport.loadModel(new File(args[0]), DType.F32, DType.I8);
        var response = model.generate(UUID.randomUUID(), PromptContext.of(args[1]), 0.0f, Integer.parseInt(args[2]), (token, time) -> { });
        System.out.println("TEXT:" + response.responseText.replace("\n", "\\n"));
    }
}
