package io.flexq.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wgmma rows of the dispatcher (no GPU): which prompt sizes take a wgmma kernel, and the shipped table's sanity. */
class DispatcherWgmmaTest {

    private static Dispatcher.Entry row(int n, int k, int m, String kernel) {
        return new Dispatcher.Entry(n, k, m, 0, kernel, 1, 1.0);
    }

    private static final List<Dispatcher.Entry> ROWS = List.of(row(4096, 14336, 16, "none"), row(4096, 14336, 32, "flexq_wg_64x16_b2"),
            row(4096, 14336, 256, "flexq_wg_64x128_b2"), row(57344, 8192, 64, "none"), row(57344, 8192, 4096, "flexq_wg_128x128"));

    private static Optional<String> pick(Dispatcher d, int m, int n, int k) {
        return d.wgmma(m, n, k).map(c -> c.spec().name());
    }

    @Test
    void promptSizesTakeTheMeasuredWinnerOfTheNearestShapeAtTheNextLargerM() {
        Dispatcher d = new Dispatcher(List.of(), ROWS, 132);
        assertEquals(Optional.empty(), pick(d, 4, 4096, 14336), "decode sizes keep the ordered GEMV");
        assertEquals(Optional.empty(), pick(d, 16, 4096, 14336), "a `none` row keeps the INT8-MMA kernels");
        assertEquals(Optional.of("flexq_wg_64x16_b2"), pick(d, 17, 4096, 14336));
        assertEquals(Optional.of("flexq_wg_64x128_b2"), pick(d, 200, 4096, 4096), "4096 x 4096 is nearest to 4096 x 14336");
        assertEquals(Optional.of("flexq_wg_64x128_b2"), pick(d, 9000, 4096, 14336), "past the largest measured M: the largest");
        assertEquals(Optional.empty(), pick(d, 64, 57344, 8192));
        assertEquals(Optional.of("flexq_wg_128x128"), pick(d, 65, 28672 * 2, 8192));
        assertEquals(Optional.empty(), pick(new Dispatcher(List.of(), 132), 512, 4096, 4096), "no wgmma rows: none");
    }

    @Test
    void aRowNamingNoWgmmaKernelIsAnError() {
        Dispatcher d = new Dispatcher(List.of(), List.of(row(4096, 4096, 64, "flexq_gemm_i8_128x128")), 132);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.wgmma(64, 4096, 4096));
        assertTrue(e.getMessage().contains("flexq_gemm_i8_128x128"), e.getMessage());
    }

    @Test
    void theShippedTableNamesWgmmaKernelsOnlyAndTheSwitchTurnsItOff() {
        List<Dispatcher.Entry> shipped = Dispatcher.readTable("dispatch-sm90-wg.tsv");
        assertFalse(shipped.isEmpty(), "dispatch-sm90-wg.tsv on the class path");
        for (Dispatcher.Entry e : shipped) {
            assertTrue(e.kernel().equals("none") || KernelSpec.byName(e.kernel()).filter(s -> s.path() == KernelSpec.Path.WG).isPresent(), e.toString());
        }
        assertTrue(Dispatcher.forDevice(90, 132).wgmma(512, 28672, 4096).isPresent(), "8B gate+up at M = 512 takes a wgmma kernel");
        assertEquals(Optional.empty(), Dispatcher.forDevice(89, 128).wgmma(512, 28672, 4096), "no wgmma kernels before sm_90");
        System.setProperty("flexq.cuda.wgmma", "false");
        try {
            assertEquals(Optional.empty(), Dispatcher.forDevice(90, 132).wgmma(512, 28672, 4096));
        } finally {
            System.clearProperty("flexq.cuda.wgmma");
        }
    }
}
