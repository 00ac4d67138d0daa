package io.flexq.jlama;

/** Makes the Jlama fixtures of the 27M model (HF folder, Jlama Q4 folder, FQ6 file) for scripts; prints the folder. */
public final class FixturesMain {

    private FixturesMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println(Fixtures.hfFolder(Fixtures.REF27M));
        System.out.println(Fixtures.jlamaQ4(Fixtures.REF27M));
        System.out.println(Fixtures.fq6(Fixtures.REF27M, "flexq-ref-27M-tok4096.bin"));
    }
}
