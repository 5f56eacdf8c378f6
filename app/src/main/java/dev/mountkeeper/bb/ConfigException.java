package dev.mountkeeper.bb;

/** The runner's configuration cannot be loaded or asks for something the runner does not do. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
