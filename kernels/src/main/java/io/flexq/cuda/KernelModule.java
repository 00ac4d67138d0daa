package io.flexq.cuda;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The compiled FlexQ kernels ({@code io/flexq/kernels/flexq.cu} followed by {@code decoder.cu} and {@code hopper.cu},
 * one program, from the flexq-cuda jar) loaded as a CUDA module, with functions looked up by their extern "C" names.
 *
 * <p>Where the cubin comes from, in order: a prebuilt resource {@code io/flexq/kernels/flexq-<arch>.cubin}
 * if the build put one there (nvcc at build time is optional); the cubin cache
 * ({@code -Dflexq.cuda.cache}, default {@code ~/.cache/flexq-j}; see {@link CubinCache}: keyed by a hash of
 * the source, the NVRTC options, the target and the NVRTC version, each entry checked against its stored
 * SHA-256 before it is loaded); otherwise NVRTC compiles the source (a few seconds) and the result is cached. Targets: {@code sm_90a} on compute capability 9.0, {@code sm_XY} elsewhere. NVRTC rejects
 * {@code -O3}; its default optimization is full.
 */
final class KernelModule implements AutoCloseable {

    static final String SOURCE = "io/flexq/kernels/flexq.cu";
    /** Compiled after {@link #SOURCE} in the same program (it uses that file's helpers). */
    static final String DECODER_SOURCE = "io/flexq/kernels/decoder.cu";
    /** Compiled after {@link #DECODER_SOURCE}: the wgmma GEMM, whose bodies exist for sm_90a only (they trap elsewhere). */
    static final String HOPPER_SOURCE = "io/flexq/kernels/hopper.cu";

    private final CudaDevice device;
    private final CUmod_st module;
    private final String origin;
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final Map<String, Integer> sharedLimits = new HashMap<>();

    private KernelModule(CudaDevice device, CUmod_st module, String origin) {
        this.device = device;
        this.module = module;
        this.origin = origin;
    }

    static String arch(int cc) {
        return cc == 90 ? "sm_90a" : "sm_" + cc;
    }

    static KernelModule load(CudaDevice device) {
        String arch = arch(device.computeCapability());
        byte[] cubin;
        String origin;
        byte[] prebuilt = resource("io/flexq/kernels/flexq-" + arch + ".cubin");
        if (prebuilt != null) {
            cubin = prebuilt;
            origin = "prebuilt flexq-" + arch + ".cubin";
        } else {
            byte[] main = resource(SOURCE);
            byte[] decoder = resource(DECODER_SOURCE);
            byte[] hopper = resource(HOPPER_SOURCE);
            if (main == null || decoder == null || hopper == null) {
                throw new IllegalStateException("kernel sources " + SOURCE + ", " + DECODER_SOURCE + " and " + HOPPER_SOURCE
                        + " not on the class path: the flexq-cuda jar is missing");
            }
            byte[] source = program(main, decoder, hopper);
            int[] major = new int[1], minor = new int[1];
            nvrtc.nvrtcVersion(major, minor);
            CubinCache cache = new CubinCache(cacheDir(), source, options(arch), arch, major[0] + "." + minor[0]);
            byte[] cached = cache.read().orElse(null);
            if (cached != null) {
                cubin = cached;
                origin = "cache " + cache.file();
            } else {
                long t0 = System.nanoTime();
                cubin = compile(device, source, arch);
                origin = "NVRTC " + major[0] + "." + minor[0] + " for " + arch + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms";
                cache.write(cubin);
            }
        }
        CUmod_st module = new CUmod_st();
        BytePointer image = new BytePointer(cubin);
        try {
            device.check(cudart.cuModuleLoadData(module, image), "cuModuleLoadData", () -> "loading the FlexQ kernels for " + arch);
        } finally {
            image.close();
        }
        return new KernelModule(device, module, origin);
    }

    /** The sources joined in order, each followed by a newline (as build-cubins.sh joins them for nvcc). */
    static byte[] program(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** The NVRTC options for {@code arch}; part of the cache key. */
    static java.util.List<String> options(String arch) {
        return java.util.List.of("--gpu-architecture=" + arch, "--std=c++17");
    }

    /** Compiles the source with NVRTC for {@code arch}; a failed compile throws with the NVRTC log. */
    static byte[] compile(CudaDevice device, byte[] source, String arch) {
        _nvrtcProgram prog = new _nvrtcProgram();
        checkNvrtc(nvrtc.nvrtcCreateProgram(prog, new BytePointer(new String(source, StandardCharsets.UTF_8)), new BytePointer("flexq.cu"),
                0, (PointerPointer) null, (PointerPointer) null), "nvrtcCreateProgram", arch, null);
        try {
            String[] options = options(arch).toArray(String[]::new);
            PointerPointer opts = new PointerPointer(options.length);
            for (int i = 0; i < options.length; i++) {
                opts.put(i, new BytePointer(options[i]));
            }
            int rc = nvrtc.nvrtcCompileProgram(prog, options.length, opts);
            if (rc != nvrtc.NVRTC_SUCCESS) {
                checkNvrtc(rc, "nvrtcCompileProgram", arch, log(prog));
            }
            SizeTPointer size = new SizeTPointer(1);
            checkNvrtc(nvrtc.nvrtcGetCUBINSize(prog, size), "nvrtcGetCUBINSize", arch, null);
            BytePointer out = new BytePointer(size.get());
            checkNvrtc(nvrtc.nvrtcGetCUBIN(prog, out), "nvrtcGetCUBIN", arch, null);
            byte[] cubin = new byte[(int) size.get()];
            out.get(cubin);
            return cubin;
        } finally {
            nvrtc.nvrtcDestroyProgram(prog);
        }
    }

    private static String log(_nvrtcProgram prog) {
        SizeTPointer n = new SizeTPointer(1);
        if (nvrtc.nvrtcGetProgramLogSize(prog, n) != nvrtc.NVRTC_SUCCESS || n.get() <= 1) {
            return "";
        }
        BytePointer log = new BytePointer(n.get());
        nvrtc.nvrtcGetProgramLog(prog, log);
        return log.getString();
    }

    private static void checkNvrtc(int rc, String call, String arch, String log) {
        if (rc != nvrtc.NVRTC_SUCCESS) {
            throw new CudaException(call + " -> " + rc + " (" + Native.string(nvrtc.nvrtcGetErrorString(rc)) + ") compiling " + SOURCE
                    + " for " + arch + (log == null || log.isEmpty() ? "" : ":\n" + log), rc);
        }
    }

    /**
     * The function {@code name}; for launches using over 48 KiB of dynamic shared memory, {@code smem} raises the
     * function's limit (again whenever a later launch needs more: the ordered GEMV's need grows with M and K).
     */
    synchronized CUfunc_st function(String name, int smem) {
        CUfunc_st f = functions.get(name);
        if (f == null) {
            CUfunc_st fn = new CUfunc_st();
            device.check(cudart.cuModuleGetFunction(fn, module, name), "cuModuleGetFunction", () -> "kernel " + name);
            functions.put(name, fn);
            f = fn;
        }
        if (smem > 48 * 1024 && smem > sharedLimits.getOrDefault(name, 48 * 1024)) {
            device.check(cudart.cuFuncSetAttribute(f, cudart.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
                    "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES=" + smem + ")", () -> "kernel " + name);
            sharedLimits.put(name, smem);
        }
        return f;
    }

    /** Where the cubin came from (prebuilt, cache, NVRTC), for logs. */
    String origin() {
        return origin;
    }

    @Override
    public void close() {
        cudart.cuModuleUnload(module);
    }

    private static Path cacheDir() {
        String dir = System.getProperty("flexq.cuda.cache");
        return dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "flexq-j");
    }

    private static byte[] resource(String name) {
        try (InputStream in = KernelModule.class.getClassLoader().getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading resource " + name, e);
        }
    }
}
