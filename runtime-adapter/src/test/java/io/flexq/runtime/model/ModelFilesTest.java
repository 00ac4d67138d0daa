package io.flexq.runtime.model;

import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFilesTest {

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16));

    @TempDir
    Path dir;

    @Test
    void dispatchesOnMagicThenExtension() throws IOException {
        try (ModelFile f = ModelFiles.open(SharedData.require("models/stories260K-f32.gguf"), TYPES)) {
            assertEquals("gguf", f.format());
        }
        try (ModelFile f = ModelFiles.open(SharedData.require("models/stories260K.bin"), TYPES)) {
            assertEquals("llama2c", f.format());
        }
        // GGUF content under another name is still GGUF
        Path renamed = Files.copy(SharedData.require("models/stories260K-f16.gguf"), dir.resolve("model.weights"));
        try (ModelFile f = ModelFiles.open(renamed, TYPES)) {
            assertEquals("gguf", f.format());
            assertEquals(48, f.tensors().size());
        }
    }

    @Test
    void unknownFilesAndDirectoriesAreRefusedByName() throws IOException {
        Path txt = Files.writeString(dir.resolve("notes.txt"), "hello");
        var e = assertThrows(ModelFormatException.class, () -> ModelFiles.open(txt, TYPES));
        assertTrue(e.getMessage().contains("notes.txt") && e.getMessage().contains("unrecognised"), e.getMessage());
        var d = assertThrows(ModelFormatException.class, () -> ModelFiles.open(dir, TYPES));
        assertTrue(d.getMessage().contains("config.json"), d.getMessage());
        var m = assertThrows(ModelFormatException.class, () -> ModelFiles.open(dir.resolve("absent.gguf"), TYPES));
        assertTrue(m.getMessage().contains("absent.gguf"), m.getMessage());
        Path fakeGguf = Files.writeString(dir.resolve("fake.gguf"), "GGUX and more");
        var g = assertThrows(ModelFormatException.class, () -> ModelFiles.open(fakeGguf, TYPES));
        assertTrue(g.getMessage().contains("fake.gguf") && g.getMessage().contains("magic"), g.getMessage());
    }
}
