package io.flexq.conformance;

import io.flexq.plugin.cpu.IntegerReference;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * FQ6 against golden vectors from an independent NumPy implementation of docs/FQ6.md
 * ({@code tools/golden/fq6_golden.py}; regenerate with {@code python3 tools/golden/fq6_golden.py}):
 * the Java quantizers bit for bit (weight codes and fp16 scales, RTN and clipping search, packed FQ6 bytes;
 * A6 / A8 activation codes and scales), the plugin's integer reference bit for bit (partials and fp32 epilogue),
 * and every available backend that supports FQ6 within the contract's epilogue bound (partials bit exact
 * where the backend exposes them).
 */
class Fq6GoldenTest {

    private static List<Fq6GoldenCase> cases;

    @BeforeAll
    static void load() throws URISyntaxException {
        var url = Fq6GoldenTest.class.getResource("/golden/cases.txt");
        assertTrue(url != null, "golden/cases.txt is not on the test class path");
        cases = Fq6GoldenCase.loadAll(Path.of(url.toURI()).getParent());
        System.out.println("[conformance] FQ6 golden cases: " + cases);
    }

    @Test
    void weightQuantizerReproducesGoldenFq6BytesForRtnAndClipping() {
        for (Fq6GoldenCase c : cases) {
            byte[] rtn = WeightQuantizer.rtn().quantize(c.name(), c.weights(), c.n(), c.k()).weights().toFq6Bytes();
            byte[] clip = WeightQuantizer.clipping().quantize(c.name(), c.weights(), c.n(), c.k()).weights().toFq6Bytes();
            assertSameFq6(c, "RTN", c.fq6Rtn(), rtn);
            assertSameFq6(c, "clipping", c.fq6Clip(), clip);
        }
    }

    @Test
    void goldenFq6BytesDecodeToGoldenCodesAndScales() {
        TensorType fq6 = fq6Type();
        for (Fq6GoldenCase c : cases) {
            FlexqWeights w = FlexqWeights.readFq6(c.name(), MemorySegment.ofArray(c.fq6Clip()), c.n(), c.k());
            assertArrayEqualsAt(c + ": unpacked codes", c.weightCodesClip(), w.copyCodes(), w.paddedCols());
            float[] sw = Fq6GoldenCheck.weightScales(c.fq6Clip(), c.n(), c.groups());
            float[] row = new float[c.k()];
            byte[] codes = c.weightCodesClip();
            for (int r = 0; r < c.n(); r++) {
                fq6.dequantizeRow(MemorySegment.ofArray(c.fq6Clip()), r, c.k(), row, 0);
                for (int k = 0; k < c.k(); k++) {
                    float want = codes[r * c.groups() * Fq6Layout.GROUP + k] * sw[r * c.groups() + k / Fq6Layout.GROUP];
                    if (Float.floatToRawIntBits(row[k]) != Float.floatToRawIntBits(want)) {
                        fail(c + ": FQ6 dequantizeRow(" + r + ")[" + k + "] = " + row[k] + ", golden code * sw = " + want);
                    }
                }
            }
        }
    }

    @Test
    void activationQuantizerReproducesGoldenCodesAndScales() {
        for (Fq6GoldenCase c : cases) {
            for (ActivationMode mode : Fq6GoldenCase.quantizedModes()) {
                Fq6GoldenCase.Quantized g = c.quantized(mode);
                QuantizedActivations a = ActivationQuantizer.quantize(c.activations(), c.t(), c.k(), mode);
                assertArrayEqualsAt(c + " " + mode + " codes", g.codes(), a.codesArray(), c.groups() * Fq6Layout.GROUP);
                for (int i = 0; i < g.scales().length; i++) {
                    int t = i / c.groups(), gi = i % c.groups(), fi = i;
                    assertEquals(Float.floatToRawIntBits(g.scales()[i]), Float.floatToRawIntBits(a.scale(t, gi)),
                            () -> c + " " + mode + ": sa[t=" + t + "][g=" + gi + "] = " + a.scale(t, gi) + ", golden " + g.scales()[fi]);
                }
            }
        }
    }

    @Test
    void integerReferenceReproducesGoldenPartialsAndOutputsBitForBit() {
        for (Fq6GoldenCase c : cases) {
            FlexqWeights w = FlexqWeights.readFq6(c.name(), MemorySegment.ofArray(c.fq6Clip()), c.n(), c.k());
            for (ActivationMode mode : Fq6GoldenCase.quantizedModes()) {
                Fq6GoldenCase.Quantized g = c.quantized(mode);
                QuantizedActivations a = ActivationQuantizer.quantize(c.activations(), c.t(), c.k(), mode);
                int[] p = IntegerReference.partials(w, a);
                for (int i = 0; i < p.length; i++) {
                    int fi = i;
                    assertEquals(g.partials()[i], p[i], () -> c + " " + mode + ": IntegerReference partial " + fi + " (t, r, g row-major)");
                }
                float[] y = IntegerReference.matmul(w, a);
                for (int i = 0; i < y.length; i++) {
                    int fi = i;
                    assertEquals(Float.floatToRawIntBits(g.y()[i]), Float.floatToRawIntBits(y[i]),
                            () -> c + " " + mode + ": IntegerReference y[" + fi / c.n() + "][" + fi % c.n() + "] = " + y[fi] + ", golden " + g.y()[fi]);
                }
            }
        }
    }

    /** One dynamic test per (backend, activation mode), over every golden case. */
    @TestFactory
    Stream<DynamicTest> everyBackendThatSupportsFq6MeetsTheContractOnGoldenVectors() {
        BackendRoster roster = BackendRoster.discover(getClass().getClassLoader());
        TensorType fq6 = fq6Type();
        PartialsProbe probe = PartialsProbe.standard();
        List<DynamicTest> tests = new ArrayList<>();
        for (BackendRoster.Entry e : roster.entries()) {
            if (!e.available()) {
                System.out.println("[conformance] FQ6 golden: SKIPPED backend " + e.name() + ": " + e.reason());
                tests.add(DynamicTest.dynamicTest(e.name() + ": unavailable",
                        () -> Assumptions.abort("backend " + e.name() + " unavailable: " + e.reason())));
                continue;
            }
            if (cases.stream().noneMatch(c -> e.backend().supports(fq6, c.n(), c.k()))) {
                System.out.println("[conformance] FQ6 golden: backend " + e.name() + " does not support FQ6");
                continue;
            }
            for (ActivationMode mode : ActivationMode.values()) {
                tests.add(DynamicTest.dynamicTest(e.name() + " / W6" + mode, () -> {
                    List<Fq6GoldenCheck.Result> results = cases.stream()
                            .map(c -> Fq6GoldenCheck.run(e.backend(), fq6, c, mode, probe)).toList();
                    results.forEach(r -> System.out.println("[conformance] " + r));
                    List<Fq6GoldenCheck.Result> failed = results.stream().filter(Fq6GoldenCheck.Result::failed).toList();
                    assertTrue(failed.isEmpty(), () -> "FQ6 golden vectors, backend " + e.name() + ", W6" + mode + ":\n  "
                            + String.join("\n  ", failed.stream().map(Object::toString).toList()));
                    if (results.stream().anyMatch(r -> r.verdict() == Fq6GoldenCheck.Verdict.W6A16_FALLBACK)) {
                        Assumptions.abort("backend " + e.name() + " runs FQ6 as W6A16 whatever flexq.act_bits says (checked: its "
                                + "outputs meet the W6A16 bound), so it does not implement W6" + mode
                                + "; it is the runtime's generic fallback, chosen only when no FQ6 backend is available");
                    }
                    assertTrue(results.stream().anyMatch(r -> r.verdict() == Fq6GoldenCheck.Verdict.CONFORMS),
                            "no golden case was supported by " + e.name());
                }));
            }
        }
        return tests.stream();
    }

    private static TensorType fq6Type() {
        TensorTypes types = BuiltinTypes.registry(Fq6GoldenTest.class.getClassLoader());
        return types.require(Fq6Layout.TYPE_ID, "conformance: FQ6 golden vectors");
    }

    /** Equal FQ6 bytes; on a difference, names the first (row, group) whose codes or scale differ. */
    private static void assertSameFq6(Fq6GoldenCase c, String method, byte[] golden, byte[] got) {
        assertEquals(golden.length, got.length, c + " " + method + ": FQ6 size");
        if (java.util.Arrays.equals(golden, got)) {
            return;
        }
        FlexqWeights g = FlexqWeights.readFq6("golden", MemorySegment.ofArray(golden), c.n(), c.k());
        FlexqWeights j = FlexqWeights.readFq6("java", MemorySegment.ofArray(got), c.n(), c.k());
        for (int r = 0; r < c.n(); r++) {
            for (int gi = 0; gi < c.groups(); gi++) {
                if (g.scaleFp16(r, gi) != j.scaleFp16(r, gi)) {
                    fail(c + " " + method + ": scale of row " + r + ", group " + gi + " is " + j.scale(r, gi)
                            + ", golden " + g.scale(r, gi));
                }
                for (int k = gi * Fq6Layout.GROUP; k < (gi + 1) * Fq6Layout.GROUP; k++) {
                    if (g.code(r, k) != j.code(r, k)) {
                        fail(c + " " + method + ": code of row " + r + ", column " + k + " is " + j.code(r, k)
                                + ", golden " + g.code(r, k) + " (w = " + c.weights()[r * c.k() + Math.min(k, c.k() - 1)]
                                + ", sw = " + g.scale(r, gi) + ")");
                    }
                }
            }
        }
        fail(c + " " + method + ": FQ6 bytes differ though codes and scales agree (packing)");
    }

    private static void assertArrayEqualsAt(String what, byte[] want, byte[] got, int rowLength) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                fail(what + ": element [" + i / rowLength + "][" + i % rowLength + "] is " + got[i] + ", golden " + want[i]);
            }
        }
    }
}
