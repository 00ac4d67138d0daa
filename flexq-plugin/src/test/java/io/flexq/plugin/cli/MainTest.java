package io.flexq.plugin.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {

    /** A command that echoes its arguments or fails in the way its first argument asks. */
    static final class Probe implements Command {
        public String name() { return "probe"; }
        public String summary() { return "test command"; }
        public String synopsis() { return "MODE"; }
        public List<Flag> flags() {
            return List.of(Flag.value("windows", "N", "windows"), Flag.bool("json", "json output"));
        }
        public int run(Args args, Console console) throws Exception {
            args.expectPositional(1, 1, synopsis());
            int n = args.intValue("windows", 3, 1, 100);
            switch (args.positional(0)) {
                case "bug" -> throw new IllegalStateException("boom");
                case "user" -> throw new CliException("--calib: no such file: x.txt");
                case "nofile" -> throw new NoSuchFileException("/nope/model.gguf");
                case "multiline" -> throw new CliException("first\nsecond");
                default -> console.out().println("ok windows=" + n + " json=" + args.has("json"));
            }
            return 0;
        }
    }

    record Run(int status, String out, String err) {
    }

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Main(List.of(new Probe())).run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertOneLineNoTrace(Run r) {
        assertEquals(1, r.err().lines().count(), "expected one line on stderr, got:\n" + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void parsesFlagsInBothForms() {
        assertEquals("ok windows=7 json=true\n", run("probe", "x", "--windows", "7", "--json").out());
        assertEquals("ok windows=9 json=false\n", run("probe", "--windows=9", "x").out());
        assertEquals(0, run("probe", "x").status());
    }

    @Test
    void usageErrorsAreOneLineWithStatus2() {
        for (String[] argv : new String[][]{{"probe", "x", "--bogus"}, {"probe", "x", "--windows"}, {"probe", "x", "--windows", "zero"},
                {"probe", "x", "--windows", "0"}, {"probe"}, {"probe", "x", "y"}, {"probe", "x", "--json=1"}, {"nosuch"}}) {
            Run r = run(argv);
            assertEquals(2, r.status(), String.join(" ", argv) + " -> " + r.err());
            assertOneLineNoTrace(r);
        }
        assertTrue(run("probe", "x", "--bogus").err().contains("unknown flag --bogus"));
        assertTrue(run("probe", "x", "--windows", "0").err().contains("--windows: 0 is outside [1, 100]"));
    }

    @Test
    void userErrorsAreOneLineWithStatus1() {
        Run r = run("probe", "user");
        assertEquals(1, r.status());
        assertEquals("flexq probe: error: --calib: no such file: x.txt\n", r.err());
        Run f = run("probe", "nofile");
        assertEquals("flexq probe: error: no such file: /nope/model.gguf\n", f.err());
        assertOneLineNoTrace(run("probe", "multiline"));
    }

    @Test
    void bugsSayInternalErrorAndVerboseShowsTheTrace() {
        Run r = run("probe", "bug");
        assertEquals(1, r.status());
        assertOneLineNoTrace(r);
        assertTrue(r.err().startsWith("flexq probe: internal error: java.lang.IllegalStateException: boom"), r.err());
        Run v = run("probe", "bug", "--verbose");
        assertTrue(v.err().contains("\tat io.flexq.plugin.cli.MainTest$Probe.run"), v.err());
    }

    @Test
    void helpGoesToStdout() {
        Run r = run("probe", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("usage: flexq probe MODE [flags]"), r.out());
        assertTrue(r.out().contains("--windows=N"), r.out());
        Run o = run("--help");
        assertTrue(o.out().contains("probe"));
        assertEquals(2, run().status());
    }
}
