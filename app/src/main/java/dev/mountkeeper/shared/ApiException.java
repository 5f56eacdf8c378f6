package dev.mountkeeper.shared;

/** A request that cannot be done, with the HTTP status that says whose fault it is. */
public final class ApiException extends Exception {
    public enum Kind {
        BAD_REQUEST(400), FORBIDDEN(403), NOT_FOUND(404), METHOD_NOT_ALLOWED(405), CONFLICT(409), TOO_MANY(429), FAILED(500),
        UNAVAILABLE(503);

        public final int status;

        Kind(int status) { this.status = status; }
    }

    private final Kind kind;

    public ApiException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ApiException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() { return kind; }

    public static ApiException badRequest(String message) { return new ApiException(Kind.BAD_REQUEST, message); }

    public static ApiException forbidden(String message) { return new ApiException(Kind.FORBIDDEN, message); }
}
