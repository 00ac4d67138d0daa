package io.flexq.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels are written for any preferred vector width. This machine picks one; child JVMs with
 * {@code -XX:MaxVectorSize} run {@link KernelCheck} with 2 float lanes (scalar-decode fallback kernels),
 * 4 lanes (byte loads split in two parts; NEON's width) and 8 lanes (AVX2's width).
 */
class LaneWidthTest {

    static final long SEED = 0x5EED_0005L;

    @Test
    void kernelsAreCorrectAtTwoFourAndEightLanes() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        for (int bytes : new int[]{8, 16, 32}) {
            List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-XX:MaxVectorSize=" + bytes,
                    "-XX:TieredStopAtLevel=1", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    KernelCheck.class.getName(), Long.toString(SEED)));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
            String lanes = "float, " + bytes / 4 + ",";
            assertTrue(output.contains(lanes), "expected " + lanes + " lanes:\n" + output);
            assertEquals(0, p.exitValue(), "MaxVectorSize=" + bytes + ":\n" + output);
        }
    }
}
