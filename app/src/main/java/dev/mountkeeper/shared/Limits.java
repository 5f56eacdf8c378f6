package dev.mountkeeper.shared;

import java.time.Duration;

/**
 * What one user may take of the daemon, from the policy's {@code limits} (0 or absent: the
 * default). They keep one user from freezing the daemon for the others or filling the host's
 * mount table: specs per request, mounts per user and connections per uid. root is bound by the
 * connection limit only (a larger one), since root can unmount anything anyway.
 */
public record Limits(int specsPerRequest, int mountsPerUser, int connectionsPerUser, int rootConnections,
                     Duration idleTimeout, Duration requestTimeout) {
    public static final Limits DEFAULT = new Limits(64, 1024, 16, 256, Duration.ofSeconds(60), Duration.ofSeconds(10));

    static Limits of(dev.mountkeeper.shared.proto.Limits l) {
        return new Limits(or(l.getSpecsPerRequest(), DEFAULT.specsPerRequest), or(l.getMountsPerUser(), DEFAULT.mountsPerUser),
                or(l.getConnectionsPerUser(), DEFAULT.connectionsPerUser), DEFAULT.rootConnections,
                l.getIdleTimeoutMs() == 0 ? DEFAULT.idleTimeout : Duration.ofMillis(l.getIdleTimeoutMs()),
                l.getRequestTimeoutMs() == 0 ? DEFAULT.requestTimeout : Duration.ofMillis(l.getRequestTimeoutMs()));
    }

    private static int or(int value, int fallback) {
        return value == 0 ? fallback : value;
    }

    int connections(Peer peer) {
        return peer.isRoot() ? Math.max(rootConnections, connectionsPerUser) : connectionsPerUser;
    }

    /** A request with more specs than a user may send; root is not limited. */
    void checkSpecs(Peer peer, int specs) throws ApiException {
        if (!peer.isRoot() && specs > specsPerRequest) {
            throw ApiException.badRequest("The request has " + specs + " specs; the limit is " + specsPerRequest
                    + " per request (policy limits.specs_per_request)");
        }
    }

    /** Refuses {@code adding} more mounts for a user who has {@code has} already. */
    void checkMounts(Peer peer, int has, int adding) throws ApiException {
        if (!peer.isRoot() && has + adding > mountsPerUser) {
            throw new ApiException(ApiException.Kind.TOO_MANY, peer + " holds " + has + " mounts and asks for " + adding
                    + " more; the limit is " + mountsPerUser + " per user (policy limits.mounts_per_user)");
        }
    }
}
