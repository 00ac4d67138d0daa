package io.flexq.runtime.llama;

/** A request that does not fit in a sequence's context: refused before anything is computed. */
public class ContextLengthException extends RuntimeException {
    public ContextLengthException(String message) {
        super(message);
    }
}
