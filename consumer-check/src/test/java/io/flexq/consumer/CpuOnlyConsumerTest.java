package io.flexq.consumer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * This module depends on flexq-plugin and nothing else, so its test class path is what Maven resolves for a CPU-only
 * user (plus JUnit): flexq-plugin's own dependency graph, with the scopes a consumer sees. A JavaCPP, CUDA or
 * flexq-cuda artifact anywhere in that graph would show up here.
 */
class CpuOnlyConsumerTest {

    /** Every jar on the class path, found through its manifest (a directory of classes has none). */
    private static List<String> jarsOnClassPath() throws IOException {
        List<String> jars = new ArrayList<>();
        for (URL u : Collections.list(ClassLoader.getSystemClassLoader().getResources("META-INF/MANIFEST.MF"))) {
            jars.add(u.toString());
        }
        return jars;
    }

    @Test
    void aFlexqPluginConsumerResolvesNoJavaCppOrCudaJar() throws IOException {
        List<String> jars = jarsOnClassPath();
        // the scan sees jars at all: JUnit's are on every test class path
        assertTrue(jars.stream().anyMatch(j -> j.contains("junit-jupiter-api")), "class path scan found no JUnit jar: " + jars);
        List<String> native_ = jars.stream()
                .filter(j -> j.contains("/org/bytedeco/") || j.contains("javacpp") || j.contains("flexq-cuda") || j.contains("/kernels/"))
                .toList();
        assertEquals(List.of(), native_, "a flexq-plugin consumer resolves JavaCPP/CUDA artifacts");
    }

    @Test
    void noJavaCppOrCudaClassIsVisible() {
        ClassLoader cl = getClass().getClassLoader();
        for (String name : List.of("org.bytedeco.javacpp.Loader", "org.bytedeco.javacpp.Pointer", "org.bytedeco.cuda.global.cudart",
                "io.flexq.cuda.FlexqCudaBackend")) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(name, false, cl), name + " is visible to a CPU-only consumer");
        }
    }

    /**
     * A fresh class loader over exactly the two code sources a CPU user needs (runtime-adapter, flexq-plugin), with the
     * platform loader as parent: ServiceLoader must find FlexQ's tensor type (GGUF id 1030, docs/FQ6.md) and the
     * flexq-cpu backend from the jars' META-INF/services alone, and nothing CUDA.
     */
    @Test
    void serviceLoaderFindsTheFq6TypeAndTheFlexqCpuBackend() throws Exception {
        URL runtime = Class.forName("io.flexq.runtime.spi.WeightBackend").getProtectionDomain().getCodeSource().getLocation();
        URL plugin = Class.forName("io.flexq.plugin.quant.Fq6Layout").getProtectionDomain().getCodeSource().getLocation();
        assertFalse(runtime.equals(plugin), "runtime-adapter and flexq-plugin are separate code sources");
        try (URLClassLoader fresh = new URLClassLoader("cpu-consumer", new URL[] {runtime, plugin}, ClassLoader.getPlatformClassLoader())) {
            Class<?> providerApi = fresh.loadClass("io.flexq.runtime.spi.TensorTypeProvider");
            Class<?> typeApi = fresh.loadClass("io.flexq.runtime.spi.TensorType");
            Method tensorTypes = providerApi.getMethod("tensorTypes");
            Method id = typeApi.getMethod("id");
            Method typeName = typeApi.getMethod("name");
            List<String> types = new ArrayList<>();
            for (Object provider : ServiceLoader.load(providerApi, fresh)) {
                assertTrue(provider.getClass().getClassLoader() == fresh, provider.getClass() + " came from outside the fresh loader");
                for (Object t : (List<?>) tensorTypes.invoke(provider)) {
                    types.add(id.invoke(t) + ":" + typeName.invoke(t));
                }
            }
            assertTrue(types.stream().anyMatch(t -> t.startsWith("1030:")), "no tensor type with GGUF id 1030 (FQ6) among " + types);

            Class<?> backendApi = fresh.loadClass("io.flexq.runtime.spi.WeightBackend");
            Method name = backendApi.getMethod("name");
            Method availability = backendApi.getMethod("availability");
            List<String> backends = new ArrayList<>();
            boolean cpuAvailable = false;
            for (Object b : ServiceLoader.load(backendApi, fresh)) {
                String n = (String) name.invoke(b);
                backends.add(n);
                if (n.equals("flexq-cpu")) {
                    Object a = availability.invoke(b);
                    cpuAvailable = (boolean) a.getClass().getMethod("available").invoke(a);
                }
            }
            assertTrue(backends.contains("flexq-cpu"), "flexq-cpu not found; backends: " + backends);
            assertTrue(backends.contains("cpu"), "the runtime's built-in cpu backend not found; backends: " + backends);
            assertFalse(backends.contains("flexq-cuda"), "a CUDA backend without flexq-cuda: " + backends);
            assertTrue(cpuAvailable, "flexq-cpu reports itself unavailable");
        }
    }
}
