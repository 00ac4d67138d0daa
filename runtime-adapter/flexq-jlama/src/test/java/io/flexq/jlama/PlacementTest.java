package io.flexq.jlama;

import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where {@link Placement} puts FQ6 matrices, with stand-in backends (no GPU needed): by size, by property, refusals. */
class PlacementTest {

    private final List<String> asked = new ArrayList<>();
    private final TensorType fq6 = BuiltinTypes.registry(getClass().getClassLoader()).require(1030, "test");

    @AfterEach
    void clearProperties() {
        System.clearProperty(Placement.DEVICE);
        System.clearProperty(Placement.GPU_MIN_BYTES);
    }

    @Test
    void autoPutsLargeMatricesOnTheDeviceAndSmallOnesOnTheCpu() {
        Placement p = Placement.fromProperties(backends(true));
        load(p, "small", Placement.DEFAULT_GPU_MIN_BYTES - 1);
        load(p, "large", Placement.DEFAULT_GPU_MIN_BYTES);
        assertEquals(List.of("host:small", "device:large"), asked);
    }

    @Test
    void theThresholdIsAProperty() {
        System.setProperty(Placement.GPU_MIN_BYTES, "1000");
        Placement p = Placement.fromProperties(backends(true));
        load(p, "a", 999);
        load(p, "b", 1000);
        assertEquals(List.of("host:a", "device:b"), asked);
    }

    @Test
    void cpuAndCudaForceOneSide() {
        System.setProperty(Placement.DEVICE, "cpu");
        load(Placement.fromProperties(backends(true)), "big", 1L << 30);
        System.setProperty(Placement.DEVICE, "CUDA");
        load(Placement.fromProperties(backends(true)), "tiny", 16);
        assertEquals(List.of("host:big", "device:tiny"), asked);
    }

    @Test
    void autoWithoutAnAvailableDeviceStaysOnTheCpuAndSaysWhy() {
        Placement p = Placement.fromProperties(backends(false));
        load(p, "large", 1L << 30);
        assertEquals(List.of("host:large"), asked);
        List<String> lines = new ArrayList<>();
        p.describe(lines::add);
        assertTrue(lines.getFirst().contains("on the CPU (no device backend: device: stand-in without a GPU)"), lines.getFirst());
    }

    @Test
    void cudaWithoutAnAvailableDeviceIsRefusedWithTheReason() {
        System.setProperty(Placement.DEVICE, "cuda");
        var e = assertThrows(IllegalStateException.class, () -> Placement.fromProperties(backends(false)));
        assertTrue(e.getMessage().contains("-Dflexq.device=cuda") && e.getMessage().contains("stand-in without a GPU"), e.getMessage());
    }

    @Test
    void badValuesNameTheProperty() {
        System.setProperty(Placement.DEVICE, "gpu");
        var e = assertThrows(IllegalArgumentException.class, () -> Placement.fromProperties(backends(true)));
        assertTrue(e.getMessage().contains("-Dflexq.device=gpu"), e.getMessage());
        System.clearProperty(Placement.DEVICE);
        System.setProperty(Placement.GPU_MIN_BYTES, "8MB");
        e = assertThrows(IllegalArgumentException.class, () -> Placement.fromProperties(backends(true)));
        assertTrue(e.getMessage().contains("-Dflexq.jlama.gpuMinBytes=8MB"), e.getMessage());
    }

    private void load(Placement p, String name, long bytes) {
        p.load(new WeightSource(name, fq6, 1, 1, MemorySegment.NULL.reinterpret(bytes), Map.of()));
    }

    private Backends backends(boolean deviceAvailable) {
        return new Backends(List.of(new StandIn("host", 10, false, true), new StandIn("device", 20, true, deviceAvailable)), s -> { });
    }

    /** A backend that records which matrix it was asked to load. */
    private final class StandIn implements WeightBackend {
        private final String name;
        private final int priority;
        private final boolean device;
        private final boolean available;

        StandIn(String name, int priority, boolean device, boolean available) {
            this.name = name;
            this.priority = priority;
            this.device = device;
            this.available = available;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            return priority;
        }

        @Override
        public Availability availability() {
            return available ? Availability.yes("stand-in") : Availability.no("stand-in without a GPU");
        }

        @Override
        public boolean supports(TensorType type, int rows, int cols) {
            return true;
        }

        @Override
        public WeightMatrix load(WeightSource source) {
            asked.add(name + ":" + source.name());
            return null;
        }

        @Override
        public boolean onDevice() {
            return device;
        }
    }
}
