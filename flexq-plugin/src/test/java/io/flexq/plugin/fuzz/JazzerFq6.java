package io.flexq.plugin.fuzz;

import io.flexq.runtime.fuzz.JazzerContract;
import io.flexq.runtime.fuzz.JazzerReaders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * Jazzer entry point for the FQ6 reader (issue 11): FQ6 header and flexq.* keys, every FQ6 tensor opened, the model
 * loaded with every backend on the class path ({@link Fq6Readers}). Run by tools/fuzz-jazzer.sh on the release-23
 * build; the contract is the runtime's {@link JazzerContract}.
 */
public final class JazzerFq6 {

    private JazzerFq6() {
    }

    private static JazzerContract contract;

    public static void fuzzerInitialize() {
        try {
            contract = JazzerReaders.start("fq6", Fq6Readers.fq6(Files.createTempDirectory("flexq-jazzer-seed")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void fuzzerTestOneInput(byte[] input) throws Throwable {
        contract.check(input);
    }
}
