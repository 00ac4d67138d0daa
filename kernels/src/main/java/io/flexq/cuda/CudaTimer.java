package io.flexq.cuda;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Times launches with CUDA events on the default stream: {@code warm} untimed calls, then {@code runs}
 * calls each between two events; the result is the median in microseconds. For benchmarks only.
 */
public final class CudaTimer implements AutoCloseable {

    private final CudaDevice device;
    private final CUevent_st[] events;

    public CudaTimer(CudaDevice device, int maxRuns) {
        this.device = device;
        this.events = new CUevent_st[2 * maxRuns];
        for (int i = 0; i < events.length; i++) {
            events[i] = new CUevent_st();
            device.check(cudart.cudaEventCreate(events[i]), "cudaEventCreate", () -> "benchmark timer");
        }
    }

    /** Median time of {@code call.accept(i)} over {@code runs} runs after {@code warm} warm-ups; i counts all calls. */
    public double medianMicros(int warm, int runs, IntConsumer call) {
        if (2 * runs > events.length) {
            throw new IllegalArgumentException(runs + " runs, timer made for " + events.length / 2);
        }
        for (int i = 0; i < warm; i++) {
            call.accept(i);
        }
        for (int i = 0; i < runs; i++) {
            device.check(cudart.cudaEventRecord(events[2 * i], null), "cudaEventRecord", () -> "benchmark timer");
            call.accept(warm + i);
            device.check(cudart.cudaEventRecord(events[2 * i + 1], null), "cudaEventRecord", () -> "benchmark timer");
        }
        device.synchronize(() -> "benchmark runs");
        double[] t = new double[runs];
        float[] ms = new float[1];
        for (int i = 0; i < runs; i++) {
            device.check(cudart.cudaEventElapsedTime(ms, events[2 * i], events[2 * i + 1]), "cudaEventElapsedTime", () -> "benchmark timer");
            t[i] = ms[0] * 1000.0;
        }
        Arrays.sort(t);
        return t[runs / 2];
    }

    @Override
    public void close() {
        for (CUevent_st e : events) {
            cudart.cudaEventDestroy(e);
        }
    }
}
