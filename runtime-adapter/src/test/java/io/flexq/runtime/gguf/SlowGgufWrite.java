package io.flexq.runtime.gguf;

import io.flexq.runtime.tensor.FloatTypes;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A child process for {@link GgufWriterSafetyTest}: starts writing args[0], then blocks inside a tensor supplier. */
public final class SlowGgufWrite {

    public static void main(String[] args) throws Exception {
        new GgufWriter().put("general.name", "slow").addTensor("t", FloatTypes.F32, new long[] {4}, () -> {
            System.out.println("writing");
            System.out.flush();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return MemorySegment.ofArray(new byte[16]);
        }).write(Path.of(args[0]));
    }
}
