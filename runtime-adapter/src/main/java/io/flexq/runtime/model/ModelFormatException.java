package io.flexq.runtime.model;

/**
 * A model, tokenizer or checkpoint file that cannot be used as it is: wrong magic, truncated,
 * offsets past the end, inconsistent sizes, missing keys. The message names the file and what is wrong.
 */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
