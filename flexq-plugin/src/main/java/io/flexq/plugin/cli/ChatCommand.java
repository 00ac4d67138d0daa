package io.flexq.plugin.cli;

import java.util.List;

/**
 * {@code flexq chat} and {@code flexq generate}: the runtime's commands, run with this plugin on the class path so
 * FQ6 files load through the FlexQ backend. {@code bin/flexq} starts the runtime's CLI for them directly; this entry
 * makes {@code io.flexq.plugin.cli.Main chat ...} do the same. Arguments are handed on unchanged.
 */
final class ChatCommand implements Command {

    private final String name;

    ChatCommand(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String summary() {
        return "the runtime's " + name + " (FQ6 models load through the FlexQ backend)";
    }

    @Override
    public String synopsis() {
        return "[MODEL] [flags of the runtime's " + name + "]";
    }

    @Override
    public List<Flag> flags() {
        return List.of();
    }

    @Override
    public int run(Args args, Console console) {
        throw new IllegalStateException(name + " is handed to the runtime before argument parsing");
    }

    int delegate(String[] argv, Console console) {
        return io.flexq.runtime.cli.Main.run(argv, System.in, console.out(), console.err());
    }
}
