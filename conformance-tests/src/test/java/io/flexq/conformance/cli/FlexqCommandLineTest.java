package io.flexq.conformance.cli;

import io.flexq.runtime.cli.Cli;
import io.flexq.runtime.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one {@code flexq} command tree as a user meets it, with every module's commands on the class path (the
 * runtime's, the plugin's and this one's, found through ServiceLoader as bin/flexq finds them): every command
 * {@code flexq --help} lists answers {@code --help}, and the same command-line mistakes give the same error shape
 * in every command.
 */
class FlexqCommandLineTest {

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Cli cli = new Cli(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        int status = Main.run(args, cli, Main.discover(FlexqCommandLineTest.class.getClassLoader()));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The command names under "commands:" in {@code flexq --help}. */
    static List<String> listedCommands() {
        Run help = run("--help");
        assertEquals(0, help.status(), help.err());
        List<String> names = new ArrayList<>();
        boolean inList = false;
        for (String line : help.out().lines().toList()) {
            if (line.equals("commands:")) {
                inList = true;
            } else if (inList) {
                Matcher m = Pattern.compile("^  (\\S+)\\s{2,}\\S.*").matcher(line);
                if (!m.matches()) {
                    break;
                }
                names.add(m.group(1));
            }
        }
        return names;
    }

    @Test
    void helpListsTheCommandsOfEveryModule() {
        List<String> names = listedCommands();
        for (String expected : List.of("generate", "chat", "bench", "serve", "quantize", "inspect", "eval", "quality", "conformance")) {
            assertTrue(names.contains(expected), expected + " missing from flexq --help: " + names);
        }
    }

    @Test
    void everyListedCommandAnswersHelpOnStdout() {
        for (String name : listedCommands()) {
            Run r = run(name, "--help");
            assertEquals(0, r.status(), name + " --help: " + r.err());
            assertEquals("", r.err(), name + " --help wrote to stderr");
            assertTrue(r.out().startsWith("usage: flexq " + name) || name.equals("help"), name + " --help:\n" + r.out());
            if (!name.equals("help")) {
                assertTrue(r.out().contains("--verbose") && r.out().contains("--quiet") && r.out().contains("--help"), name + ":\n" + r.out());
            }
        }
    }

    @Test
    void theSameMistakeGivesTheSameErrorShapeInEveryCommand() {
        for (String name : listedCommands()) {
            if (name.equals("help")) {
                continue;
            }
            String prefix = "flexq " + name + ": error: ";
            String hint = " (see flexq " + name + " --help)";
            Run unknown = run(name, "--no-such-flag");
            assertEquals(2, unknown.status(), name + ": " + unknown.err());
            assertEquals(prefix + "unknown flag --no-such-flag" + hint + "\n", unknown.err(), name);
            assertEquals("", unknown.out(), name);

            Run twice = run(name, "--verbose", "--verbose");
            assertEquals(2, twice.status(), name + ": " + twice.err());
            assertEquals(prefix + "flag --verbose given twice (each flag is given at most once)" + hint + "\n", twice.err(), name);

            Run both = run(name, "--verbose", "--quiet");
            assertEquals(2, both.status(), name + ": " + both.err());
            assertEquals(prefix + "--verbose and --quiet exclude each other" + hint + "\n", both.err(), name);
        }
    }

    @Test
    void aFlagWithoutItsValueIsNamedTheSameWayInEveryCommandThatHasOne() {
        // a value flag of each kind of command: runtime (picocli specs), plugin (declared flags), conformance (annotated)
        for (String[] cmd : new String[][]{{"generate", "--max-tokens"}, {"bench", "--runs"}, {"serve", "--port"}, {"eval", "--text"},
                {"quantize", "--preset"}, {"conformance", "--backend"}}) {
            Run r = run(cmd);
            assertEquals(2, r.status(), String.join(" ", cmd) + ": " + r.err());
            assertTrue(r.err().startsWith("flexq " + cmd[0] + ": error: flag " + cmd[1] + " needs a value: " + cmd[1] + " "), r.err());
            assertTrue(r.err().endsWith(" (see flexq " + cmd[0] + " --help)\n"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
    }

    @Test
    void aValueOnASwitchIsNamedTheSameWayInEveryCommand() {
        for (String name : listedCommands()) {
            if (name.equals("help")) {
                continue;
            }
            Run r = run(name, "--quiet=yes");
            assertEquals(2, r.status(), name + ": " + r.err());
            assertEquals("flexq " + name + ": error: flag --quiet is a switch and takes no value (got 'yes') (see flexq " + name + " --help)\n",
                    r.err(), name);
        }
    }

    @Test
    void anUnknownCommandNamesTheCommandsThereAre() {
        Run r = run("frobnicate");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("flexq: error: unknown command 'frobnicate' (commands: "), r.err());
        assertTrue(r.err().contains("conformance") && r.err().contains("quantize"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }
}
