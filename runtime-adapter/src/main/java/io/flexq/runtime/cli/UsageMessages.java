package io.flexq.runtime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;


/** Picocli's parse errors in the words every flexq command uses: each names the flag or argument. */
final class UsageMessages {

    private UsageMessages() {
    }

    static String of(ParameterException e) {
        CommandLine cmd = e.getCommandLine();
        return switch (e) {
            case CommandLine.UnmatchedArgumentException u when !u.getUnmatched().isEmpty() -> unmatched(cmd, u.getUnmatched().getFirst());
            case CommandLine.MissingParameterException m when !m.getMissing().isEmpty() -> missing(m.getMissing().getFirst());
            case CommandLine.OverwrittenOptionException o -> "flag " + name(o.getOverwritten()) + " given twice (each flag is given at most once)";
            default -> reworded(e.getMessage());
        };
    }

    private static final Pattern SWITCH_WITH_VALUE = Pattern.compile("option '(--[^']+)' should be specified without '(.*)' parameter");

    /** Picocli's other messages that users meet, in the same words as ours. */
    private static String reworded(String message) {
        Matcher m = SWITCH_WITH_VALUE.matcher(message == null ? "" : message);
        if (m.matches()) {
            return "flag " + m.group(1) + " is a switch and takes no value (got '" + m.group(2) + "')";
        }
        return message;
    }

    private static String unmatched(CommandLine cmd, String arg) {
        boolean root = cmd.getParent() == null;
        if (arg.startsWith("-") && arg.length() > 1) {
            String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            if (cmd.getCommandSpec().findOption(flag) != null) {
                return "flag " + flag + " takes no value (got '" + arg + "')";
            }
            return "unknown flag " + flag;
        }
        if (root) {
            return "unknown command '" + arg + "' (commands: " + String.join(", ", cmd.getSubcommands().keySet()) + ")";
        }
        return "unexpected argument '" + arg + "'";
    }

    private static String missing(ArgSpec spec) {
        if (spec instanceof OptionSpec o) {
            return "flag " + o.longestName() + " needs a value: " + o.longestName() + " " + o.paramLabel();
        }
        return "missing argument " + spec.paramLabel();
    }

    private static String name(ArgSpec spec) {
        return spec instanceof OptionSpec o ? o.longestName() : spec.paramLabel();
    }

}
