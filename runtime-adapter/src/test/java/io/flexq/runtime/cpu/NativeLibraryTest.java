package io.flexq.runtime.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A library that cannot be opened gives a reason, not an exception: the Vector API kernels then run. */
class NativeLibraryTest {

    @Test
    void aMissingLibrarySaysWhyInsteadOfThrowing() {
        NativeLibrary lib = NativeLibrary.open("libflexq_no_such_library", NativeLibraryTest.class);
        assertTrue(lib.lookup().isEmpty(), lib.why());
        String os = System.getProperty("os.name", "").toLowerCase();
        if (os.contains("linux") && System.getProperty("os.arch").equals("amd64")
                && !"false".equals(System.getProperty(NativeLibrary.PROPERTY))) {
            assertTrue(lib.why().contains("/native/linux-x86_64/libflexq_no_such_library.so is not on the class path"), lib.why());
        }
    }

    @Test
    void theRuntimeLibraryIsOpenedOnceAndFoundWhereItWasBuilt() {
        NativeLibrary a = NativeLibrary.open("libflexq_runtime", NativeLibraryTest.class);
        NativeLibrary b = NativeLibrary.open("libflexq_runtime", NativeLibraryTest.class);
        assertTrue(a == b, "one mapping per library name");
        if (NativeLibraryTest.class.getResource("/native/linux-x86_64/libflexq_runtime.so") != null
                && !"false".equals(System.getProperty(NativeLibrary.PROPERTY))) {
            assertTrue(a.lookup().isPresent(), a.why()); // built here (gcc present): it must load
        }
    }
}
