package io.flexq.plugin.cli;

/**
 * One {@code --name} a subcommand accepts. A flag with a {@code valueName} takes a value
 * ({@code --name VALUE} or {@code --name=VALUE}); one without is a switch.
 */
public record Flag(String name, String valueName, String help) {

    public static Flag value(String name, String valueName, String help) {
        return new Flag(name, valueName, help);
    }

    public static Flag bool(String name, String help) {
        return new Flag(name, null, help);
    }

    public boolean takesValue() {
        return valueName != null;
    }

    /** "--name VALUE" or "--name", as printed in help. */
    public String synopsis() {
        return takesValue() ? "--" + name + " " + valueName : "--" + name;
    }
}
