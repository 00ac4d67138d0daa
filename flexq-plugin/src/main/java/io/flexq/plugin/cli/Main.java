package io.flexq.plugin.cli;

import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.spi.TensorTypes;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code flexq} subcommands that belong to the plugin: quantize, inspect, eval, chat (the runtime's,
 * with the plugin on the class path). {@code bin/flexq} hands every subcommand it does not know itself here.
 *
 * <p>Error policy: anything the user can cause ends as one line on stderr ({@code flexq CMD: error: ...}) and
 * a non-zero exit status (2 for a command line that does not parse, 1 otherwise), without a stack trace
 * unless {@code --verbose} is given. A bug (an exception nobody expected) is reported the same way, marked
 * "internal error", with the hint to rerun with {@code --verbose}.
 */
public final class Main {

    private final Map<String, Command> commands = new LinkedHashMap<>();

    public Main(List<? extends Command> commands) {
        commands.forEach(c -> this.commands.put(c.name(), c));
    }

    /** The plugin's standard subcommands. */
    public static Main standard() {
        return new Main(List.of(new QuantizeCommand(), new InspectCommand(), new EvalCommand(), new QualityCommand(),
                new ChatCommand("chat"), new ChatCommand("generate")));
    }

    public static void main(String[] args) {
        int status = standard().run(args, System.out, System.err, System.console() != null);
        System.out.flush();
        System.exit(status);
    }

    /** Runs one command line; returns the exit status. Never throws. */
    public int run(String[] argv, PrintStream out, PrintStream err, boolean interactive) {
        List<String> args = new ArrayList<>(Arrays.asList(argv));
        boolean verbose = args.remove("--verbose") | args.remove("-v");
        if (args.isEmpty() || args.getFirst().equals("--help") || args.getFirst().equals("-h") || args.getFirst().equals("help")) {
            if (args.size() >= 2 && commands.containsKey(args.get(1))) {
                printHelp(commands.get(args.get(1)), out);
            } else {
                printOverview(args.isEmpty() ? err : out);
            }
            return args.isEmpty() ? 2 : 0;
        }
        String name = args.removeFirst();
        Command command = commands.get(name);
        if (command == null) {
            err.println("flexq: unknown command '" + name + "' (commands: " + String.join(", ", commands.keySet()) + "; see flexq --help)");
            return 2;
        }
        Console console = new Console(out, err, interactive, verbose);
        if (command instanceof ChatCommand chat) {
            // the runtime parses its own flags (and prints its own help)
            return chat.delegate(argv, console);
        }
        if (args.contains("--help") || args.contains("-h")) {
            printHelp(command, out);
            return 0;
        }
        try {
            Args parsed = Args.parse(name, command.flags(), args);
            return command.run(parsed, console);
        } catch (Throwable t) {
            return report(name, t, err, verbose);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static int report(String command, Throwable t, PrintStream err, boolean verbose) {
        String prefix = "flexq " + command + ": ";
        int status;
        String line;
        switch (t) {
            case CliException.Usage u -> {
                line = "error: " + u.getMessage() + " (see flexq " + command + " --help)";
                status = u.exitCode();
            }
            case CliException c -> {
                line = "error: " + c.getMessage();
                status = c.exitCode();
            }
            case ModelFormatException m -> {
                line = "error: " + m.getMessage();
                status = 1;
            }
            case TensorTypes.UnsupportedTensorTypeException u -> {
                line = "error: " + u.getMessage();
                status = 1;
            }
            case NoSuchFileException n -> {
                line = "error: no such file: " + n.getFile();
                status = 1;
            }
            case AccessDeniedException a -> {
                line = "error: permission denied: " + a.getFile();
                status = 1;
            }
            case IOException io -> {
                line = "error: " + io.getClass().getSimpleName() + ": " + io.getMessage();
                status = 1;
            }
            case UncheckedIOException io -> {
                line = "error: " + io.getCause().getClass().getSimpleName() + ": " + io.getCause().getMessage();
                status = 1;
            }
            case OutOfMemoryError oom -> {
                line = "error: out of memory (" + oom.getMessage() + "); give the JVM more with JAVA_OPTS=-Xmx...";
                status = 1;
            }
            default -> {
                line = "internal error: " + t + (verbose ? "" : " (rerun with --verbose for the stack trace)");
                status = 1;
            }
        }
        err.println(prefix + oneLine(line));
        if (verbose) {
            t.printStackTrace(err);
        }
        return status;
    }

    /** Messages can carry newlines (e.g. a wrapped cause); the contract is one line. */
    private static String oneLine(String s) {
        return s.replace("\r", "").replace('\n', ' ');
    }

    private void printOverview(PrintStream out) {
        out.println("usage: flexq COMMAND [ARGS] [--verbose]");
        out.println();
        int width = commands.keySet().stream().mapToInt(String::length).max().orElse(8);
        for (Command c : commands.values()) {
            out.printf("  %-" + width + "s  %s%n", c.name(), c.summary());
        }
        out.println();
        out.println("flexq COMMAND --help shows the flags of one command.");
    }

    static void printHelp(Command c, PrintStream out) {
        out.println("usage: flexq " + c.name() + " " + c.synopsis() + (c.flags().isEmpty() ? "" : " [flags]"));
        out.println();
        out.println(c.summary());
        if (!c.details().isEmpty()) {
            out.println();
            out.println(c.details().strip());
        }
        if (!c.flags().isEmpty()) {
            out.println();
            int width = c.flags().stream().mapToInt(f -> f.synopsis().length()).max().orElse(10);
            for (Flag f : c.flags()) {
                out.printf("  %-" + width + "s  %s%n", f.synopsis(), f.help());
            }
        }
        out.printf("  %-10s  %s%n", "--verbose", "stack traces and diagnostics on errors");
    }
}
