package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.config.AuthenticationPolicy;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * A gRPC server's authentication_policy, as bb-storage's authenticators evaluate the kinds the
 * runner takes: allow passes, deny is UNAUTHENTICATED with its message, any passes when one of its
 * policies does (none configured is a deny), all when every one does. The others are refused when
 * the configuration loads ({@link #check}).
 */
final class Authentication implements ServerInterceptor {
    private final AuthenticationPolicy policy;

    Authentication(AuthenticationPolicy policy) {
        this.policy = policy;
    }

    /** Refuses, by name, a policy kind the runner cannot evaluate. */
    static void check(String where, AuthenticationPolicy p) {
        switch (p.getPolicyCase()) {
            case ALLOW, DENY -> {}
            case ANY -> p.getAny().getPoliciesList().forEach(c -> check(where + ".any", c));
            case ALL -> p.getAll().getPoliciesList().forEach(c -> check(where + ".all", c));
            case POLICY_NOT_SET -> throw new IllegalArgumentException(where + " is not set");
            default -> throw new IllegalArgumentException(where + " " + p.getPolicyCase().name().toLowerCase()
                    + " is not supported by mountkeeper bb-runner; remove it (allow, deny, any and all are)");
        }
    }

    /** null when the policy lets the call in, else why not. */
    static String denial(AuthenticationPolicy p) {
        return switch (p.getPolicyCase()) {
            case ALLOW -> null;
            case DENY -> p.getDeny();
            case ANY -> {
                if (p.getAny().getPoliciesCount() == 0) yield "No authenticators configured";
                java.util.List<String> why = new java.util.ArrayList<>();
                for (AuthenticationPolicy c : p.getAny().getPoliciesList()) {
                    String d = denial(c);
                    if (d == null) yield null;
                    why.add(d);
                }
                yield String.join(", ", why);
            }
            case ALL -> {
                for (AuthenticationPolicy c : p.getAll().getPoliciesList()) {
                    String d = denial(c);
                    if (d != null) yield d;
                }
                yield null;
            }
            default -> "Unsupported authentication policy";
        };
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String denied = denial(policy);
        if (denied == null) return next.startCall(call, headers);
        call.close(Status.UNAUTHENTICATED.withDescription(denied), new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
