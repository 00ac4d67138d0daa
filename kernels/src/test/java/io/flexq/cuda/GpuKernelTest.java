package io.flexq.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Set-up shared by the GPU kernel test classes: one device (-Dflexq.cuda.device, default 0) and its kernels per
 * class, and every test reported as skipped, with the probe's reason, when there is no usable GPU.
 */
abstract class GpuKernelTest {

    static CudaDevice device;
    static FlexqKernels kernels;

    @BeforeAll
    static void open() {
        if (GpuTestData.gpu().available()) {
            device = CudaDevice.open(Integer.getInteger("flexq.cuda.device", 0));
            kernels = device.kernels();
        }
    }

    /** Per test, so each one is reported as skipped with the probe's reason when there is no GPU. */
    @BeforeEach
    void needsGpu() {
        GpuTestData.assumeGpu();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
            device = null;
            kernels = null;
        }
    }
}
