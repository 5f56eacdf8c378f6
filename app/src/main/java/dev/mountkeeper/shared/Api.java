package dev.mountkeeper.shared;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.shared.proto.AcquireRequest;
import dev.mountkeeper.shared.proto.Error;
import dev.mountkeeper.shared.proto.Outcome;
import dev.mountkeeper.shared.proto.ReleaseRequest;
import dev.mountkeeper.shared.proto.SweepRequest;
import dev.mountkeeper.shared.proto.Version;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The daemon's HTTP/JSON API, version 1, apart from any HTTP library: a method, a path with its
 * query, a body and the peer in; a status and a JSON body out.
 * <pre>
 * GET  /v1/version
 * GET  /v1/status[?context=NAME]
 * POST /v1/acquire   AcquireRequest  -> Outcome
 * POST /v1/release   ReleaseRequest  -> Outcome
 * POST /v1/sweep     SweepRequest    -> Outcome
 * </pre>
 * Errors are {@code {"error": "..."}} with 400, 403, 404, 405, 409 or 500.
 */
public final class Api {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");
    public static final String VERSION = "v1";
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final Set<String> PATHS = Set.of("/v1/version", "/v1/status", "/v1/acquire", "/v1/release", "/v1/sweep");

    public record Response(int status, String json) {}

    private final MountManager manager;

    public Api(MountManager manager) {
        this.manager = manager;
    }

    public Limits limits() {
        return manager.limits();
    }

    /** An error answer, for the ones the HTTP layer gives itself (too large, too slow, too many). */
    static Response error(int status, String message) {
        return new Response(status, print(Error.newBuilder().setError(message)));
    }

    public Response handle(Peer peer, String method, String path, Map<String, List<String>> query, String body) {
        try {
            return route(peer, method, path, query, body);
        } catch (ApiException e) {
            if (e.kind().status >= 500) LOG.log(System.Logger.Level.ERROR, peer + ": " + method + " " + path + ": " + e.getMessage());
            else LOG.log(System.Logger.Level.INFO, peer + ": " + method + " " + path + ": " + e.kind().status + " " + e.getMessage());
            return new Response(e.kind().status, print(Error.newBuilder().setError(e.getMessage())));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, peer + ": " + method + " " + path + " failed", e);
            return new Response(500, print(Error.newBuilder().setError("Internal error: " + e)));
        }
    }

    private Response route(Peer peer, String method, String path, Map<String, List<String>> query, String body)
            throws ApiException {
        if (!PATHS.contains(path)) throw new ApiException(ApiException.Kind.NOT_FOUND, "No such endpoint " + Quote.string(path));
        boolean get = path.equals("/v1/version") || path.equals("/v1/status");
        if (!method.equals(get ? "GET" : "POST")) {
            throw new ApiException(ApiException.Kind.METHOD_NOT_ALLOWED, path + " takes " + (get ? "GET" : "POST") + ", not " + method);
        }
        for (String k : query.keySet()) {
            if (!(path.equals("/v1/status") && k.equals("context"))) throw ApiException.badRequest("Unknown query parameter " + Quote.string(k));
        }
        return switch (path) {
            case "/v1/version" -> ok(Version.newBuilder().setApi(VERSION).setVersion(dev.mountkeeper.ProjectVersion.get()));
            case "/v1/status" -> ok(manager.status(peer, query.getOrDefault("context", List.of("")).getFirst()));
            case "/v1/acquire" -> logged(peer, path, manager.acquire(peer, parse(body, AcquireRequest.newBuilder()).build()));
            case "/v1/release" -> logged(peer, path, manager.release(peer, parse(body, ReleaseRequest.newBuilder()).build()));
            case "/v1/sweep" -> logged(peer, path, manager.sweep(peer, parse(body, SweepRequest.newBuilder()).build()));
            default -> throw new IllegalStateException(path);
        };
    }

    private static Response logged(Peer peer, String path, Outcome o) {
        if (!o.getActionsList().isEmpty()) {
            LOG.log(System.Logger.Level.INFO, peer + ": " + path.substring(4) + ": " + String.join("; ", o.getActionsList()));
        }
        return ok(o);
    }

    private static <B extends Message.Builder> B parse(String body, B builder) throws ApiException {
        if (body.isBlank()) throw ApiException.badRequest("The request body is empty; expected a JSON object");
        try {
            PARSER.merge(body, builder);
            return builder;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw ApiException.badRequest("Malformed request body: " + e.getMessage());
        }
    }

    private static Response ok(MessageOrBuilder m) {
        return new Response(200, print(m));
    }

    static String print(MessageOrBuilder m) {
        return ApiJson.print(m) + "\n";
    }
}
