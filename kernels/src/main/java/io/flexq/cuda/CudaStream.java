package io.flexq.cuda;

import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * A CUDA stream of one device with the asynchronous copies, page-locked host staging and graph capture that the
 * device-resident decoder needs. Every call is checked through {@link CudaDevice#check}. Not thread-safe.
 */
final class CudaStream implements AutoCloseable {

    private final CudaDevice device;
    private final CUstream_st stream = new CUstream_st();

    CudaStream(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        device.check(cudart.cudaStreamCreate(stream), "cudaStreamCreate", () -> "the decoder's stream");
    }

    CUstream_st handle() {
        return stream;
    }

    /** Copies {@code bytes} from page-locked host memory at {@code host} to device address {@code dst}, in stream order. */
    void upload(long dst, MemorySegment host, long bytes, Supplier<String> what) {
        device.check(cudart.cudaMemcpyAsync(Native.at(dst), Native.at(host.address()), bytes, cudart.cudaMemcpyHostToDevice, stream),
                "cudaMemcpyAsync H2D", what);
    }

    /** Copies {@code bytes} from device address {@code src} to page-locked host memory, in stream order. */
    void download(MemorySegment host, long src, long bytes, Supplier<String> what) {
        device.check(cudart.cudaMemcpyAsync(Native.at(host.address()), Native.at(src), bytes, cudart.cudaMemcpyDeviceToHost, stream),
                "cudaMemcpyAsync D2H", what);
    }

    void copy(long dst, long src, long bytes, Supplier<String> what) {
        device.check(cudart.cudaMemcpyAsync(Native.at(dst), Native.at(src), bytes, cudart.cudaMemcpyDeviceToDevice, stream),
                "cudaMemcpyAsync D2D", what);
    }

    /** Waits for the stream; a kernel's fault surfaces here, named by {@code what}. */
    void synchronize(Supplier<String> what) {
        device.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize", what);
    }

    /** Page-locked host memory of {@code bytes}, for asynchronous copies; free with {@link #freeHost}. */
    MemorySegment allocHost(long bytes, String what) {
        Pointer p = new Pointer();
        device.check(cudart.cudaMallocHost(p, Math.max(1, bytes)), "cudaMallocHost", () -> what + " (" + bytes + " bytes)");
        return MemorySegment.ofAddress(p.address()).reinterpret(Math.max(1, bytes));
    }

    void freeHost(MemorySegment host) {
        cudart.cudaFreeHost(Native.at(host.address()));
    }

    /** Records everything {@code work} launches on this stream into a graph, instantiated for replay. */
    Graph capture(Runnable work, Supplier<String> what) {
        device.check(cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture", what);
        CUgraph_st graph = new CUgraph_st();
        try {
            work.run();
        } catch (RuntimeException e) {
            cudart.cudaStreamEndCapture(stream, graph);
            if (!graph.isNull()) {
                cudart.cudaGraphDestroy(graph);
            }
            cudart.cudaGetLastError();
            throw e;
        }
        device.check(cudart.cudaStreamEndCapture(stream, graph), "cudaStreamEndCapture", what);
        CUgraphExec_st exec = new CUgraphExec_st();
        try {
            device.check(cudart.cudaGraphInstantiate(exec, graph, 0L), "cudaGraphInstantiate", what);
        } finally {
            cudart.cudaGraphDestroy(graph);
        }
        return new Graph(exec);
    }

    /** An instantiated graph: one launch replays every captured kernel. */
    final class Graph implements AutoCloseable {
        private CUgraphExec_st exec;

        private Graph(CUgraphExec_st exec) {
            this.exec = exec;
        }

        void launch(Supplier<String> what) {
            device.check(cudart.cudaGraphLaunch(exec, stream), "cudaGraphLaunch", what);
        }

        @Override
        public void close() {
            if (exec != null) {
                cudart.cudaGraphExecDestroy(exec);
                exec = null;
            }
        }
    }

    @Override
    public void close() {
        cudart.cudaStreamDestroy(stream);
    }
}
