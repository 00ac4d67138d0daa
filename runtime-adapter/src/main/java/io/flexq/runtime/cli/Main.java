package io.flexq.runtime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;

/**
 * The {@code flexq} command: one command tree, parsed by picocli, holding the runtime's commands
 * ({@link BuiltinCommands}) and every command a {@link CommandProvider} on the class path contributes (the FlexQ
 * plugin's quantize, inspect, eval, quality; the conformance kit's conformance).
 *
 * <p>Contract, the same for every command: results on stdout and nothing else; diagnostics on stderr through
 * {@link System.Logger} ({@code --verbose} adds DEBUG, {@code --quiet} leaves warnings and errors); an error is one
 * stderr line, {@code flexq CMD: error: MESSAGE}, with exit status 2 for a command line that does not parse or
 * cannot work (unknown flag, missing value, flag given twice, value out of range) and 1 for anything else (a bad
 * model file, a request past the context); {@code --verbose} adds the stack trace.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = run(args, new Cli(System.in, out, err, System.console() != null), discover(Main.class.getClassLoader()));
        out.flush();
        err.flush();
        System.exit(status);
    }

    /** Runs one command line with the commands found on this class's class path; returns the exit status. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        return run(args, new Cli(in, out, err, false), discover(Main.class.getClassLoader()));
    }

    /** The runtime's commands, then those of every {@link CommandProvider} {@code loader} finds. */
    public static List<CommandProvider> discover(ClassLoader loader) {
        List<CommandProvider> providers = new ArrayList<>();
        providers.add(new BuiltinCommands());
        ServiceLoader.load(CommandProvider.class, loader).forEach(providers::add);
        return providers;
    }

    /** Runs one command line with the commands of {@code providers}; never throws. */
    public static int run(String[] args, Cli cli, List<CommandProvider> providers) {
        try (Logging logging = Logging.install(cli.err())) {
            CommandLine root = tree(cli, providers);
            root.setExecutionStrategy(parsed -> {
                Cli.Verbosity v = verbosity(parsed);
                cli.verbosity(v);
                logging.verbosity(v);
                return new CommandLine.RunLast().execute(parsed);
            });
            root.setParameterExceptionHandler((e, a) -> usageError(e, cli));
            root.setExecutionExceptionHandler((e, cmd, parsed) -> {
                return report(e, cmd.getCommandSpec().qualifiedName(), cli);
            });
            int status;
            try {
                status = root.execute(args);
            } catch (Error e) { // picocli hands on what is not an Exception (out of memory, a linkage error)
                status = report(e, "flexq" + (args.length > 0 ? " " + args[0] : ""), cli);
            }
            cli.out().flush();
            cli.err().flush();
            return status;
        }
    }

    private static int report(Throwable e, String command, Cli cli) {
        ErrorReport r = ErrorReport.of(e, cli.verbose());
        cli.err().println(command + ": " + oneLine(r.line()) + (r.status() == 2 ? " (see " + command + " --help)" : ""));
        if (cli.verbose()) {
            e.printStackTrace(cli.err());
        }
        return r.status();
    }

    /** The whole tree for one run: {@code flexq}, {@code help}, and every provider's commands. */
    static CommandLine tree(Cli cli, List<CommandProvider> providers) {
        CommandSpec rootSpec = CommandSpec.wrapWithoutInspection((Callable<Integer>) () -> {
            cli.err().println("flexq: error: no command given (see flexq --help)");
            return 2;
        });
        rootSpec.name("flexq");
        rootSpec.usageMessage()
                .synopsisHeading("usage: ")
                .customSynopsis("flexq COMMAND [flags]")
                .description("FlexQ-J: run, benchmark, quantize and check Llama models.")
                .commandListHeading("%ncommands:%n")
                .optionListHeading("%nflags of every command:%n")
                .sortOptions(false)
                .footer("", "flexq COMMAND --help lists a command's flags. " + CommandSpecs.RULES,
                        "Errors are one line on stderr: exit status 2 for a bad command line, 1 for anything else.");
        addGlobalOptions(rootSpec);
        CommandLine root = new CommandLine(rootSpec);
        root.addSubcommand("help", new CommandLine.HelpCommand());
        for (CommandProvider p : providers) {
            for (Object command : p.commands(cli)) {
                CommandLine sub = command instanceof CommandLine c ? c : new CommandLine(command);
                String name = sub.getCommandName();
                if (root.getSubcommands().containsKey(name)) {
                    cli.warning("command '" + name + "' of " + p.getClass().getName() + " ignored: another provider has one of that name");
                    continue;
                }
                addGlobalOptions(sub.getCommandSpec());
                sameHelpLayout(sub.getCommandSpec());
                root.addSubcommand(name, sub);
            }
        }
        root.getSubcommands().get("help").getCommandSpec().usageMessage().description("show the help of a command: flexq help COMMAND");
        // settings apply to the subcommands present, so they come after the tree is complete
        root.setExpandAtFiles(false);           // "@file" is a prompt, not a file of arguments
        root.setOverwrittenOptionsAllowed(false);
        root.setUsageHelpWidth(120);
        root.setOut(new PrintWriter(cli.out(), true));
        root.setErr(new PrintWriter(cli.err(), true));
        return root;
    }

    /** --help, --verbose and --quiet on a command that does not declare them itself. */
    private static void addGlobalOptions(CommandSpec spec) {
        if (spec.findOption("--help") == null) {
            spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("show this help").build());
        }
        if (spec.findOption("--verbose") == null) {
            spec.addOption(OptionSpec.builder("--verbose").type(boolean.class).arity("0")
                    .description("diagnostics (DEBUG log) and stack traces on stderr").build());
        }
        if (spec.findOption("--quiet") == null) {
            spec.addOption(OptionSpec.builder("--quiet").type(boolean.class).arity("0")
                    .description("only warnings and errors on stderr").build());
        }
    }

    /** "usage: flexq NAME ..." and the flag rules at the end, for a command object written without them. */
    private static void sameHelpLayout(CommandSpec spec) {
        spec.usageMessage().synopsisHeading("usage: ");
        if (spec.usageMessage().footer().length == 0) {
            spec.usageMessage().footer("", CommandSpecs.RULES);
        }
    }

    private static Cli.Verbosity verbosity(ParseResult parsed) {
        boolean verbose = false, quiet = false;
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            verbose |= p.hasMatchedOption("--verbose");
            quiet |= p.hasMatchedOption("--quiet");
        }
        if (verbose && quiet) {
            throw new ParameterException(leaf(parsed).commandSpec().commandLine(), "--verbose and --quiet exclude each other");
        }
        return verbose ? Cli.Verbosity.VERBOSE : quiet ? Cli.Verbosity.QUIET : Cli.Verbosity.NORMAL;
    }

    private static ParseResult leaf(ParseResult parsed) {
        ParseResult p = parsed;
        while (p.subcommand() != null) {
            p = p.subcommand();
        }
        return p;
    }

    /** A command line that does not parse: one line naming the flag, status 2. */
    private static int usageError(ParameterException e, Cli cli) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        cli.err().println(name + ": error: " + oneLine(UsageMessages.of(e)) + " (see " + name + " --help)");
        return 2;
    }

    private static String oneLine(String s) {
        return s.replace("\r", "").replace('\n', ' ');
    }
}
