package io.flexq.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import io.flexq.jlama.agent.FlexqAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drop-in: an unchanged Jlama program ({@link UnchangedJlamaMain}) started in a child JVM with
 * {@code -javaagent} loads FQ6 linears, runs them on FlexQ (the exit summary says so, none reached Jlama's ops)
 * and prints the same greedy text as the library route in this JVM.
 */
class AgentTest {

    static final String PROMPT = "Once upon a time";
    static final int TOKENS = 16;

    @TempDir
    Path tmp;

    /**
     * Text equality is checked in W6A16: with A8/A6 rounding, one-ulp differences between a fresh JVM's first
     * (C1-compiled) forward and this JVM's warmed-up code can flip an activation code and so a greedy token
     * (seen: ", the whole of the country" vs ", the first of the two"); without activation rounding the two routes
     * compute the same logits to about 1e-6. W6A8 through the agent is checked by its routing summary.
     */
    @Test
    void anUnchangedJlamaProgramRunsFq6WithTheAgentAndPrintsTheLibraryRoutesText() throws Exception {
        Path dir = Fixtures.hfFolder(Fixtures.REF27M);
        AbstractModel lib = FlexqJlama.load(dir, Mode.A16);
        String expected = lib.generate(UUID.randomUUID(), PromptContext.of(PROMPT), 0.0f, TOKENS, (t, f) -> { }).responseText.replace("\n", "\\n");

        Run a16 = run(dir, "a16");
        assertEquals(0, a16.status, a16.stderr);
        assertTrue(a16.stderr.contains("flexq-jlama: " + dir + ": linear weights FQ6, quantized at load (clipping search), W6A16"), a16.stderr);
        assertEquals("TEXT:" + expected, a16.text(), a16.stderr);
        assertFalse(expected.isBlank());

        Run a8 = run(dir, "a8");
        assertEquals(0, a8.status, a8.stderr);
        assertTrue(a8.stderr.contains("W6A8"), a8.stderr);
        assertTrue(a8.stderr.contains("56 FQ6 tensors took") && a8.stderr.contains("on FlexQ [flexq-cpu]"), a8.stderr);
        assertTrue(a8.stderr.contains("FQ6 tensors that reached Jlama's ops: 0"), a8.stderr);
        assertTrue(a8.text().length() > "TEXT:".length() + 10, a8.stdout);
    }

    @Test
    void aBadModeLeavesJlamaUnchangedWithOneLine() throws Exception {
        Path dir = Fixtures.hfFolder(Fixtures.REF27M);
        Run r = run(dir, "a7");
        assertEquals(0, r.status, r.stderr);
        assertTrue(r.stderr.contains("mode 'a7' is not one of a8, a6, a16, auto; Jlama runs unchanged"), r.stderr);
        assertFalse(r.stderr.contains("linear weights FQ6"), r.stderr);
        assertTrue(r.text().startsWith("TEXT:"), r.stdout);
    }

    record Run(int status, String stdout, String stderr) {
        String text() {
            return stdout.lines().filter(l -> l.startsWith("TEXT:")).findFirst().orElse("(no TEXT line)");
        }
    }

    /** The agent jar as a JVM sees one: a manifest naming the premain class (the classes come from the class path). */
    Path agentJar() throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(new Attributes.Name("Premain-Class"), FlexqAgent.class.getName());
        Path jar = tmp.resolve("agent.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, mf)) {
            j.flush();
        }
        return jar;
    }

    Run run(Path dir, String agentArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-Djlama.force_panama_tensor_operations=true", "-javaagent:" + agentJar() + "=" + agentArgs,
                "-cp", System.getProperty("java.class.path"), UnchangedJlamaMain.class.getName(), dir.toString(), PROMPT, String.valueOf(TOKENS)));
        Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve("err.txt").toFile()).redirectOutput(tmp.resolve("out.txt").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish in 120 s");
        }
        return new Run(p.exitValue(), Files.readString(tmp.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
    }
}
