package io.quant4j.cli;

/** A problem with what the user asked for; printed as one line, exit code 1. */
public class UserException extends RuntimeException {
    public UserException(String message) {
        super(message);
    }
}
