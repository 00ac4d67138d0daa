package io.flexq.jlama;

/**
 * Makes the Jlama fixtures of the 27M model (HF folder, Jlama Q4 folder, FQ6 file) for scripts; prints the folders.
 * {@code q4 DIR}: only Jlama's Q4 of the HF folder DIR, beside it (on a host without ../shared, e.g. the GPU host).
 */
public final class FixturesMain {

    private FixturesMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("q4")) {
            System.out.println(Fixtures.jlamaQ4Beside(java.nio.file.Path.of(args[1]).toAbsolutePath()));
            return;
        }
        System.out.println(Fixtures.hfFolder(Fixtures.REF27M));
        System.out.println(Fixtures.jlamaQ4(Fixtures.REF27M));
        System.out.println(Fixtures.fq6(Fixtures.REF27M, "flexq-ref-27M-tok4096.bin"));
    }
}
