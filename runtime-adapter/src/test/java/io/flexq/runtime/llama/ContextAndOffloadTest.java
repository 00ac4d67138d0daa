package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.SharedData;
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

    /**
     * A stand-in device that runs the model with a second, host-only copy of it: the SPI's plumbing (positions,
     * chunks, what each {@link DecoderOffload.Want} returns, rewinds, batched steps) must then give exactly the host
     * path's numbers.
     */
    static final class MirrorOffload implements DecoderOffload {
        final List<String> calls = new ArrayList<>();
        final boolean available;
        final boolean accepts;

        MirrorOffload(boolean available, boolean accepts) {
            this.available = available;
            this.accepts = accepts;
        }

        public String name() { return "mirror"; }
        public int priority() { return 5; }
        public WeightBackend.Availability availability() {
            return available ? WeightBackend.Availability.yes("test") : WeightBackend.Availability.no("test device absent");
        }
        public Optional<DeviceModel> open(LlamaConfig config, ModelFile model, RopeAngles rope, Consumer<String> log) {
            if (!accepts) {
                log.accept("mirror: declines");
                return Optional.empty();
            }
            Llama host = ContextAndOffloadTest.load(model, List.of(), new ArrayList<>());
            return Optional.of(new DeviceModel() {
                public String describe() { return "mirror device"; }
                public Sequence newSequence(int contextLength) {
                    LlamaSession s = host.newSession(contextLength);
                    return new Sequence() {
                        float[][] last;
                        public int position() { return s.position(); }
                        public void rewind(int p) { s.rewind(p); }
                        public int forward(int[] tokens, int off, int n, Want want) {
                            calls.add(want + "@" + s.position() + "+" + n);
                            last = s.forwardAll(tokens, off, n);
                            if (want == Want.LAST_LOGITS) {
                                last = new float[][]{last[n - 1]};
                            }
                            return want == Want.GREEDY ? argmax(last[n - 1]) : -1;
                        }
                        public void logits(int row, float[] dst) { System.arraycopy(last[row], 0, dst, 0, dst.length); }
                        public void close() { s.close(); }
                    };
                }
                public int[] decodeGreedy(Sequence[] seqs, int[] tokens) {
                    calls.add("batch " + seqs.length);
                    int[] next = new int[seqs.length];
                    for (int i = 0; i < seqs.length; i++) {
                        next[i] = seqs[i].forward(tokens, i, 1, Want.GREEDY);
                    }
                    return next;
                }
                public void close() { host.close(); }
            });
        }

        private static int argmax(float[] a) {
            int best = 0;
            for (int i = 1; i < a.length; i++) {
                if (a[i] > a[best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    @Test
    void anAcceptingOffloadRunsTheWholeModelAndAnswersAsTheHostDoes() throws IOException {
        RefWeights w = stories();
        MirrorOffload device = new MirrorOffload(true, true);
        int[] prompt = {1, 403, 407, 29, 73};
        try (ModelFile f = w.toModelFile("stories260K.bin"); Llama onDevice = load(f, List.of(device), new ArrayList<>());
             Llama onHost = load(f, List.of(), new ArrayList<>());
             LlamaSession d = onDevice.newSession(32, 4); LlamaSession h = onHost.newSession(32, 4)) {
            assertTrue(onDevice.onDevice());
            assertEquals("model: mirror device", onDevice.describe().getFirst());
            assertTrue(onDevice.describe().stream().noneMatch(l -> l.startsWith("blk.") || l.startsWith("output")), "no matrix loaded on the host");
            // prompt of 5 in chunks of 4: the first chunk fills the cache only, the last returns logits
            float[] dl = d.forward(prompt, 0, prompt.length);
            float[] hl = h.forward(prompt, 0, prompt.length);
            assertEquals(List.of("NOTHING@0+4", "LAST_LOGITS@4+1"), device.calls);
            assertEquals(java.util.Arrays.toString(hl), java.util.Arrays.toString(dl));
            var gen = new io.flexq.runtime.sample.GreedySampler();
            int[] dt = Generator.generate(d, new int[]{dl.length > 0 ? gen.sample(dl) : 0}, 6, gen, java.util.Set.of(), t -> { }).tokens();
            int[] ht = Generator.generate(h, new int[]{gen.sample(hl)}, 6, gen, java.util.Set.of(), t -> { }).tokens();
            assertEquals(java.util.Arrays.toString(ht), java.util.Arrays.toString(dt));
            assertTrue(device.calls.stream().skip(2).allMatch(c -> c.startsWith("GREEDY@")), "greedy generation asks for ids only: " + device.calls);
            assertEquals(h.position(), d.position());
            d.rewind(2);
            h.rewind(2);
            float[][] da = d.forwardAll(prompt, 1, 3);
            float[][] ha = h.forwardAll(prompt, 1, 3);
            for (int i = 0; i < 3; i++) {
                assertEquals(java.util.Arrays.toString(ha[i]), java.util.Arrays.toString(da[i]), "row " + i);
            }
        }
    }

    @Test
    void aBatchedGreedyStepEqualsTheSessionsStepByStep() throws IOException {
        MirrorOffload device = new MirrorOffload(true, true);
        try (ModelFile f = stories().toModelFile("stories260K.bin"); Llama onDevice = load(f, List.of(device), new ArrayList<>());
             Llama onHost = load(f, List.of(), new ArrayList<>());
             LlamaSession a = onDevice.newSession(16); LlamaSession b = onDevice.newSession(16);
             LlamaSession ha = onHost.newSession(16); LlamaSession hb = onHost.newSession(16)) {
            int[] next = {a.forwardGreedy(new int[]{1, 50}, 0, 2), b.forwardGreedy(new int[]{1, 300, 301}, 0, 3)};
            int[] ref = {ha.forwardGreedy(new int[]{1, 50}, 0, 2), hb.forwardGreedy(new int[]{1, 300, 301}, 0, 3)};
            for (int step = 0; step < 4; step++) {
                next = onDevice.decodeGreedy(new LlamaSession[]{a, b}, next);
                ref = onHost.decodeGreedy(new LlamaSession[]{ha, hb}, ref);
                assertEquals(java.util.Arrays.toString(ref), java.util.Arrays.toString(next), "step " + step);
            }
            assertEquals(6, a.position());
            assertEquals(7, b.position());
            assertTrue(device.calls.contains("batch 2"), device.calls.toString());
        }
    }

    @Test
    void flexqDeviceSelectsOrForbidsTheOffload() throws IOException {
        try (ModelFile f = stories().toModelFile("stories260K.bin")) {
            System.setProperty("flexq.device", "cpu");
            List<String> log = new ArrayList<>();
            try (Llama l = load(f, List.of(new MirrorOffload(true, true)), log)) {
                assertTrue(!l.onDevice() && log.contains("runs on the CPU (flexq.device=cpu)"), log.toString());
            }
            System.setProperty("flexq.device", "cuda");
            var e = assertThrows(IllegalStateException.class, () -> load(f, List.of(new MirrorOffload(true, false)), new ArrayList<>()));
            assertTrue(e.getMessage().contains("--device cuda"), e.getMessage());
            System.setProperty("flexq.device", "sideways");
            var bad = assertThrows(IllegalArgumentException.class, () -> load(f, List.of(), new ArrayList<>()));
            assertTrue(bad.getMessage().contains("'sideways'"), bad.getMessage());
        } finally {
            System.clearProperty("flexq.device");
        }
    }

    @Test
    void unavailableOrDecliningOffloadsLeaveTheBlocksOnTheHost() throws IOException {
        List<String> log = new ArrayList<>();
        try (ModelFile f = stories().toModelFile("stories260K.bin");
             Llama llama = load(f, List.of(new MirrorOffload(false, true), new MirrorOffload(true, false)), log)) {
            assertTrue(llama.describe().stream().anyMatch(l -> l.startsWith("blk.0.attn_q.weight")), llama.describe().toString());
            assertTrue(log.stream().anyMatch(l -> l.contains("unavailable, test device absent")), log.toString());
            assertTrue(log.contains("mirror: declines"), log.toString());
        }
    }
}
