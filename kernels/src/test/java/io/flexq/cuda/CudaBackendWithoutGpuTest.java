package io.flexq.cuda;

import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of the CUDA backend that hold on any machine, with or without a GPU (these run on CI). */
class CudaBackendWithoutGpuTest {

    /**
     * NVRTC compiles the kernel program with no include path, so a math.h name it uses must be defined in the program
     * itself (nvcc finds math.h, so only an NVRTC build, which runs on GPU hosts only, would fail: decoder.cu used NAN
     * undefined until session 12).
     */
    @Test
    void theKernelProgramDefinesTheHeaderConstantsItUses() throws IOException {
        StringBuilder program = new StringBuilder();
        for (String r : new String[] {KernelModule.SOURCE, KernelModule.DECODER_SOURCE, KernelModule.HOPPER_SOURCE}) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(r)) {
                assertNotNull(in, r + " on the class path");
                program.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            }
        }
        String code = program.toString().replaceAll("//[^\n]*", "");
        for (String name : new String[] {"NAN", "INFINITY", "FLT_MAX", "M_PI", "HUGE_VALF"}) {
            if (Pattern.compile("\\b" + name + "\\b").matcher(code.replace("#define " + name, "")).find()) {
                assertTrue(code.contains("#define " + name + " "), name + " is used but not defined in the kernel program");
            }
        }
    }

    @Test
    void availabilityNeverThrowsAndAlwaysGivesAReason() {
        List<String> log = new ArrayList<>();
        FlexqCudaBackend b = new FlexqCudaBackend(0, log::add);
        WeightBackend.Availability a = b.availability();
        assertNotNull(a.reason());
        assertFalse(a.reason().isBlank(), "availability must say why");
        if (!a.available()) {
            assertFalse(b.supports(fq6Type(), 16, 128), "an unavailable backend must not claim FQ6: " + a.reason());
        }
        assertEquals(a, b.availability(), "probed once");
    }

    @Test
    void isFoundByServiceLoaderAboveTheCpuBackends() {
        List<String> log = new ArrayList<>();
        Backends backends = Backends.discover(getClass().getClassLoader(), log::add);
        WeightBackend cuda = backends.all().stream().filter(b -> b.name().equals("flexq-cuda")).findFirst().orElseThrow();
        assertEquals(20, cuda.priority());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("backend flexq-cuda (priority 20): ")), "one log line says which and why: " + log);
    }

    /** KernelSpec.ALL must list exactly the DEF_GEMV / DEF_GEMM entry points of flexq.cu, with the same geometry. */
    @Test
    void kernelCatalogMirrorsTheCudaSource() throws IOException {
        String src;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(KernelModule.SOURCE)) {
            assertNotNull(in, KernelModule.SOURCE + " on the class path");
            src = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Set<String> fromSource = new java.util.TreeSet<>();
        Matcher gemv = Pattern.compile("^DEF_GEMV\\((\\w+), PATH_(\\w+), (\\d+), (\\d+)\\)", Pattern.MULTILINE).matcher(src);
        while (gemv.find()) {
            fromSource.add(gemv.group(1));
            KernelSpec k = KernelSpec.byName(gemv.group(1)).orElseThrow(() -> new AssertionError("missing in KernelSpec: " + gemv.group(1)));
            assertEquals(Integer.parseInt(gemv.group(4)), k.nt(), k.name());
            assertEquals(gemv.group(2), k.path().name(), k.name());
        }
        Matcher gemm = Pattern.compile("^DEF_GEMM(?:_B)?\\((\\w+), PATH_(\\w+), (\\d+), (\\d+), (\\d+), (\\d+), (\\d+), (\\d+)(?:, \\d+)?\\)", Pattern.MULTILINE).matcher(src);
        while (gemm.find()) {
            fromSource.add(gemm.group(1));
            KernelSpec k = KernelSpec.byName(gemm.group(1)).orElseThrow(() -> new AssertionError("missing in KernelSpec: " + gemm.group(1)));
            assertEquals(List.of(gemm.group(4), gemm.group(5), gemm.group(6), gemm.group(7), gemm.group(8)),
                    List.of("" + k.wr(), "" + k.wt(), "" + k.mt(), "" + k.nt(), "" + k.stages()), k.name());
            assertEquals(gemm.group(2), k.path().name(), k.name());
        }
        Matcher ord = Pattern.compile("^DEF_GEMV_ORD\\((\\w+)\\)", Pattern.MULTILINE).matcher(src);
        while (ord.find()) {
            fromSource.add(ord.group(1));
            KernelSpec k = KernelSpec.byName(ord.group(1)).orElseThrow(() -> new AssertionError("missing in KernelSpec: " + ord.group(1)));
            assertTrue(k.ordered() && k.path() == KernelSpec.Path.I8 && !k.gemm(), k.name());
        }
        assertEquals(KernelSpec.ALL.stream().map(KernelSpec::name).collect(Collectors.toCollection(java.util.TreeSet::new)), fromSource);
    }

    /**
     * KernelSpec.WG lists exactly hopper.cu's FLEXQ_WG_CONFIGS, with the geometry hopper.cu's HpCfg computes
     * (recomputed here from the layout comment: 64 rows per consumer warpgroup row, BN tokens per column, one
     * producer warpgroup, stages of roundUp(TOKS*128 + ROWS*96 + ROWS*2 + TOKS*4, 1024) bytes + 1024 slack), and
     * every config defines the production, {@code _p}, {@code _f16} and {@code _bf16} entry points.
     */
    @Test
    void wgmmaCatalogMirrorsTheHopperSource() throws IOException {
        String src;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(KernelModule.HOPPER_SOURCE)) {
            assertNotNull(in, KernelModule.HOPPER_SOURCE + " on the class path");
            src = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Set<String> fromSource = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("^    X\\((\\w+), (\\d+), (\\d+), (\\d+), (\\d+), (\\d+), (true|false), (true|false), (true|false)\\)", Pattern.MULTILINE).matcher(src);
        while (m.find()) {
            String name = m.group(1);
            fromSource.add(name);
            int wgr = Integer.parseInt(m.group(2)), wgc = Integer.parseInt(m.group(3)), bn = Integer.parseInt(m.group(4));
            int stages = Integer.parseInt(m.group(5));
            KernelSpec k = KernelSpec.byName(name).orElseThrow(() -> new AssertionError("missing in KernelSpec.WG: " + name));
            int rows = 64 * wgr, toks = bn * wgc;
            int stage = (toks * 128 + rows * 96 + rows * 2 + toks * 4 + 1023) / 1024 * 1024;
            assertEquals(List.of(KernelSpec.Path.WG, rows, toks, (wgr * wgc + 1) * 128, stages * stage + 1024, m.group(7).equals("true")),
                    List.of(k.path(), k.rows(), k.toks(), k.threads(), k.sharedBytes(), k.exactOutput()), name);
            assertTrue(k.sharedBytes() <= 227 * 1024, name + " fits an sm_90 block's shared memory");
            assertFalse(k.path().planes(), name + " reads the int8 activation records");
        }
        assertEquals(KernelSpec.WG.stream().map(KernelSpec::name).collect(Collectors.toCollection(java.util.TreeSet::new)), fromSource);
        for (String twin : new String[] {"HP_DEF_ONE(name, ", "HP_DEF_ONE(name##_p, ", "HP_DEF_ONE(name##_f16, ", "HP_DEF_ONE(name##_bf16, "}) {
            assertTrue(src.contains(twin), "HP_DEF defines " + twin);
        }
        assertTrue(src.contains("FLEXQ_WG_CONFIGS(HP_DEF)"), "every config is defined");
        assertTrue(KernelSpec.ALL.stream().noneMatch(k -> k.path() == KernelSpec.Path.WG), "ALL keeps the kernels of every architecture");
    }

    /** The table never hands a WG kernel to callers that hold the I8 / plane layouts only. */
    @Test
    void dispatcherSkipsWgRowsUntilCallersHoldTheWgLayout() {
        Dispatcher d = new Dispatcher(List.of(new Dispatcher.Entry(4096, 4096, 512, 8, "flexq_wg_128x128", 1, 10.0),
                new Dispatcher.Entry(4096, 4096, 512, 8, "flexq_gemm_i8_128x128", 1, 20.0)), 132);
        assertEquals("flexq_gemm_i8_128x128", d.choose(512, 4096, 4096, 8).spec().name());
    }

    /**
     * The 16-bit output twins (DEF_GEMV_OUT / DEF_GEMM_OUT) exist for exactly the kernels whose spec says
     * {@code hasOutputTwins()}, each with the geometry of its fp32 original (same DEF_* arguments).
     */
    @Test
    void outputTwinsMirrorTheCudaSource() throws IOException {
        String src;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(KernelModule.SOURCE)) {
            assertNotNull(in, KernelModule.SOURCE + " on the class path");
            src = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Set<String> twins = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("^DEF_(GEMV|GEMM)_OUT\\((\\w+), (.*)\\)", Pattern.MULTILINE).matcher(src);
        while (m.find()) {
            twins.add(m.group(2));
            String args = m.group(3);
            String original = m.group(1).equals("GEMV")
                    ? "DEF_GEMV(" + m.group(2) + ", " + args + ")"
                    : args.endsWith(", 1") ? "DEF_GEMM(" + m.group(2) + ", " + args.substring(0, args.length() - 3) + ")"
                    : "DEF_GEMM_B(" + m.group(2) + ", " + args + ")";
            assertTrue(src.contains(original), "twin of " + m.group(2) + " has the original's arguments: " + original);
        }
        Matcher ord = Pattern.compile("^DEF_GEMV_ORD\\((\\w+)\\)", Pattern.MULTILINE).matcher(src);
        while (ord.find()) {
            twins.add(ord.group(1));  // DEF_GEMV_ORD defines the _f16 / _bf16 twins itself
        }
        assertEquals(KernelSpec.ALL.stream().filter(KernelSpec::hasOutputTwins).map(KernelSpec::name)
                .collect(Collectors.toCollection(java.util.TreeSet::new)), twins);
    }

    @Test
    void dispatchTableNamesKnownKernelsAndChoicesFitTheMode() {
        Dispatcher d = Dispatcher.forDevice(90, 132);
        for (Dispatcher.Entry e : d.table()) {
            assertTrue(KernelSpec.byName(e.kernel()).isPresent(), "unknown kernel in dispatch table: " + e);
        }
        for (int bits : new int[] {6, 8}) {
            for (int m : new int[] {1, 3, 8, 13, 64, 65, 200, 5000}) {
                for (int[] nk : new int[][] {{128, 128}, {4096, 11008}, {57344, 8192}, {333, 77}}) {
                    Dispatcher.Choice c = d.choose(m, nk[0], nk[1], bits);
                    assertTrue(c.spec().accepts(bits), c + " for A" + bits);
                    assertTrue(c.splits() >= 1 && c.splits() <= FlexqKernels.groups(nk[1]), c + " splits for K=" + nk[1]);
                    assertTrue(c.spec().gemm() || m <= 64, "GEMV kernels serve decode sizes only: " + c + " at M=" + m);
                }
            }
        }
        Dispatcher rules = Dispatcher.forDevice(86, 84);
        assertTrue(rules.table().isEmpty());
        assertEquals("flexq_gemv_i8_ord", rules.choose(1, 4096, 4096, 8).spec().name());
        assertEquals("flexq_gemv_i8_nt2", rules.choose(9, 4096, 4096, 8).spec().name(), "the ordered GEMV takes at most 8 tokens");
        assertEquals("flexq_gemv_i8_nt1", rules.choose(8, 4096, 1 << 20, 8).spec().name(), "nor more shared memory than a block may have");
    }

    static TensorType fq6Type() {
        return new io.flexq.plugin.cpu.Fq6TensorType();
    }
}
