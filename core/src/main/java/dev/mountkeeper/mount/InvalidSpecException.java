package dev.mountkeeper.mount;

/** A spec that cannot be parsed; the message quotes the spec and says what is wrong with it. */
public final class InvalidSpecException extends IllegalArgumentException {
    private final String spec;
    private final String reason;

    public InvalidSpecException(String spec, String reason) {
        super("Invalid mount spec " + dev.mountkeeper.linux.Quote.string(spec) + ": " + reason);
        this.spec = spec;
        this.reason = reason;
    }

    public String spec() { return spec; }

    public String reason() { return reason; }
}
