package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.spi.WeightBackend;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContextAndOffloadTest {

    private static RefWeights stories() throws IOException {
        return RefWeights.readLlama2c(SharedData.require("models/stories260K.bin"));
    }

    private static Llama load(ModelFile f, List<DecoderOffload> offloads, List<String> log) {
        return Llama.load(f, Backends.discover(ContextAndOffloadTest.class.getClassLoader(), log::add), offloads, log::add);
    }

    @Test
    void aBatchPastTheSessionContextIsRefusedAndNothingChanges() throws IOException {
        List<String> log = new ArrayList<>();
        try (ModelFile f = stories().toModelFile("stories260K.bin"); Llama llama = load(f, List.of(), log);
             LlamaSession s = llama.newSession(8)) {
            var e = assertThrows(ContextLengthException.class, () -> s.forward(new int[9], 0, 9));
            assertTrue(e.getMessage().contains("9 new tokens > 8"), e.getMessage());
            assertEquals(0, s.position());
            s.forward(new int[]{1, 2, 3, 4, 5, 6, 7, 8}, 0, 8);
            assertThrows(ContextLengthException.class, () -> s.forward(new int[]{1}, 0, 1));
            assertEquals(8, s.position());
        }
    }

    @Test
    void aContextLongerThanTrainedIsAllowedWithAWarning() throws IOException {
        List<String> log = new ArrayList<>();
        try (ModelFile f = stories().toModelFile("stories260K.bin"); Llama llama = load(f, List.of(), log)) {
            assertEquals(512, llama.config().contextLength());
            log.clear();
            try (LlamaSession s = llama.newSession(512)) {
                assertTrue(log.stream().noneMatch(l -> l.startsWith("warning")), log.toString());
            }
            try (LlamaSession s = llama.newSession(600)) {
                assertEquals(600, s.capacity());
                assertTrue(log.stream().anyMatch(l -> l.startsWith("warning: context 600") && l.contains("512")), log.toString());
            }
        }
    }

    @Test
    void anOutOfVocabularyTokenIsRefused() throws IOException {
        try (ModelFile f = stories().toModelFile("stories260K.bin"); Llama llama = load(f, List.of(), new ArrayList<>());
             LlamaSession s = llama.newSession(8)) {
            var e = assertThrows(IllegalArgumentException.class, () -> s.forward(new int[]{1, 512}, 0, 2));
            assertTrue(e.getMessage().contains("token id 512"), e.getMessage());
        }
    }

    /** A stand-in device whose blocks are the identity: logits must then be head(RMSNorm(embedding)). */
    static final class IdentityOffload implements DecoderOffload {
        final List<Integer> positions = new ArrayList<>();
        final boolean available;
        final boolean accepts;

        IdentityOffload(boolean available, boolean accepts) {
            this.available = available;
            this.accepts = accepts;
        }

        public String name() { return "identity"; }
        public int priority() { return 5; }
        public WeightBackend.Availability availability() {
            return available ? WeightBackend.Availability.yes("test") : WeightBackend.Availability.no("test device absent");
        }
        public Optional<DeviceDecoder> open(LlamaConfig config, ModelFile model, Consumer<String> log) {
            if (!accepts) {
                log.accept("identity: declines");
                return Optional.empty();
            }
            return Optional.of(new DeviceDecoder() {
                public String describe() { return "identity device"; }
                public Sequence newSequence(int contextLength) {
                    return new Sequence() {
                        public void forward(ActivationBatch hidden, int pos) { positions.add(pos); }
                        public void close() { }
                    };
                }
                public void close() { }
            });
        }
    }

    @Test
    void anAcceptingOffloadRunsTheBlocksAndTheHostDoesTheRest() throws IOException {
        RefWeights w = stories();
        IdentityOffload device = new IdentityOffload(true, true);
        List<String> log = new ArrayList<>();
        try (ModelFile f = w.toModelFile("stories260K.bin"); Llama llama = load(f, List.of(device), log);
             LlamaSession s = llama.newSession(16)) {
            assertEquals("blocks: identity device", llama.describe().getFirst());
            assertTrue(llama.describe().stream().noneMatch(l -> l.startsWith("blk.")), "block weights not loaded on the host");
            s.forward(new int[]{1, 2, 3}, 0, 3);
            float[] logits = s.forward(new int[]{403}, 0, 1);
            assertEquals(List.of(0, 3), device.positions);
            // expected: cls . (outNorm * e / rms(e)) for e = embedding row 403, in double
            double ss = 0;
            for (int i = 0; i < w.dim(); i++) {
                ss += (double) w.emb()[403 * w.dim() + i] * w.emb()[403 * w.dim() + i];
            }
            double inv = 1 / Math.sqrt(ss / w.dim() + 1e-5);
            for (int r = 0; r < w.vocab(); r += 37) {
                double acc = 0;
                for (int i = 0; i < w.dim(); i++) {
                    acc += w.cls()[r * w.dim() + i] * (w.outNorm()[i] * w.emb()[403 * w.dim() + i] * inv);
                }
                assertEquals(acc, logits[r], 1e-4 * Math.max(1, Math.abs(acc)), "logit " + r);
            }
        }
    }

    @Test
    void unavailableOrDecliningOffloadsLeaveTheBlocksOnTheHost() throws IOException {
        List<String> log = new ArrayList<>();
        try (ModelFile f = stories().toModelFile("stories260K.bin");
             Llama llama = load(f, List.of(new IdentityOffload(false, true), new IdentityOffload(true, false)), log)) {
            assertTrue(llama.describe().stream().anyMatch(l -> l.startsWith("blk.0.attn_q.weight")), llama.describe().toString());
            assertTrue(log.stream().anyMatch(l -> l.contains("unavailable, test device absent")), log.toString());
            assertTrue(log.contains("identity: declines"), log.toString());
        }
    }
}
