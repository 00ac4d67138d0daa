package io.flexq.runtime.cli;

/** A mistake on the command line (a value out of range, flags that exclude each other): one line, exit status 2. */
public class UsageException extends CommandException {
    public UsageException(String message) {
        super(message, 2, null);
    }
}
