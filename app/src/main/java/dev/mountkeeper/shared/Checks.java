package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.ApiException.badRequest;

import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.shared.proto.Holder;

/** The checks every request's fields pass before anything is looked up or locked. */
final class Checks {
    private Checks() {}

    static final int MAX_NAME = 256;

    static String context(String c) throws ApiException {
        if (c.isEmpty()) throw badRequest("The context is empty");
        return name("context", c);
    }

    static String name(String what, String s) throws ApiException {
        if (s.length() > MAX_NAME) throw badRequest("The " + what + " is longer than " + MAX_NAME + " characters");
        if (s.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw badRequest("The " + what + " " + Quote.string(s) + " contains control characters");
        }
        return s;
    }

    static String path(String what, String p) throws ApiException {
        try {
            return SpecPaths.absolute(what, p);
        } catch (IllegalArgumentException e) {
            throw badRequest("Invalid " + what + " " + Quote.string(p) + ": " + e.getMessage());
        }
    }

    /**
     * The holder named by a request, identified from /proc: pid 0 means the requesting process.
     * Only root may name another user's process.
     */
    static Holder holder(Peer peer, Holder h) throws ApiException {
        long pid = h.getPid() == 0 ? peer.pid() : h.getPid();
        if (pid < 0) throw badRequest("Holder pid " + pid + " is not a pid");
        Processes.Identity id = Processes.identify(pid)
                .orElseThrow(() -> badRequest("Holder pid " + pid + " is not a running process"));
        if (!peer.isRoot() && id.uid() != peer.uid()) {
            throw ApiException.forbidden("Holder pid " + pid + " belongs to uid " + id.uid() + ", not to " + peer);
        }
        if (h.getStartTime() != 0 && h.getStartTime() != id.startTime()) {
            throw badRequest("Holder pid " + pid + " started at " + id.startTime() + ", not at " + h.getStartTime()
                    + ": it is another process");
        }
        if (!h.getBootId().isEmpty() && !h.getBootId().equals(Processes.bootId())) {
            throw badRequest("Holder boot id " + h.getBootId() + " is not this boot's");
        }
        return Holder.newBuilder().setPid(pid).setStartTime(id.startTime()).setBootId(Processes.bootId())
                .setUid(id.uid()).setBuildId(name("build id", h.getBuildId())).build();
    }
}
