package io.flexq.runtime.cli;

import io.flexq.runtime.llama.ContextLengthException;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The runtime's command line: {@code chat}, {@code generate} and {@code bench}. Generated text (for bench, its
 * table) goes to stdout and nothing else does; diagnostics go to stderr. Exit status 0 on success, 2 for a
 * command-line mistake, 1 for anything else (a bad model file, a request past the context). Stack traces only with
 * {@code --verbose}.
 */
public final class Main {

    static final String USAGE = """
            usage: flexq <command> [flags]
              generate   continue a prompt and print only the generated text
              chat       interactive chat on stdin (base models: each line is a completion prompt)
              bench      prefill and decode tokens/s of a model, or of a random-weight model at a real shape
            flexq <command> --help lists the flags. Without --model they use the bundled stories260K model.
            """;

    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = run(args, System.in, out, err);
        out.flush();
        err.flush();
        System.exit(status);
    }

    /** Runs one command; returns the exit status. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        // The "backends: ..." line (which backend holds the weights, and why the others are not used) is shown once
        // the command has succeeded, so an error stays one line; --verbose shows it at once with everything else.
        String[] backendsLine = new String[1];
        Consumer<String> log = line -> {
            if (verbose || line.startsWith("warning")) {
                err.println(line);
            } else if (line.startsWith("backends: ")) {
                backendsLine[0] = line;
            }
        };
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        try {
            int status = switch (command) {
                case "generate" -> GenerateCommand.run(Flags.parse(command, GenerateCommand.FLAGS, args, 1), out, err, log);
                case "chat" -> ChatCommand.run(Flags.parse(command, ChatCommand.FLAGS, args, 1), in, out, err, log);
                case "bench" -> BenchCommand.run(Flags.parse(command, BenchCommand.FLAGS, args, 1), out, err, log);
                default -> throw new UsageException("unknown command '" + command + "' (commands: generate, chat, bench)");
            };
            if (status == 0 && backendsLine[0] != null) {
                err.println(backendsLine[0]);
            }
            return status;
        } catch (UsageException e) {
            err.println("flexq " + command + ": " + e.getMessage());
            trace(e, verbose, err);
            return 2;
        } catch (ContextLengthException e) {
            err.println("flexq " + command + ": " + e.getMessage());
            trace(e, verbose, err);
            return 1;
        } catch (RuntimeException e) {
            // model files, tokenizers, unsupported types, I/O: their messages name the file and the problem
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            err.println("flexq " + command + ": " + message + (verbose ? "" : "  (--verbose shows the stack trace)"));
            trace(e, verbose, err);
            return 1;
        } catch (OutOfMemoryError e) {
            err.println("flexq " + command + ": out of memory (" + e.getMessage() + "); give the JVM more with JAVA_OPTS=-Xmx...");
            return 1;
        }
    }

    private static void trace(Throwable e, boolean verbose, PrintStream err) {
        if (verbose) {
            e.printStackTrace(err);
        }
    }
}
