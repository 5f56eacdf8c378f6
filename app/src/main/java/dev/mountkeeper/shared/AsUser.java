package dev.mountkeeper.shared;

import dev.mountkeeper.linux.CredentialSyscalls;
import java.io.IOException;

/**
 * Filesystem work done with a client's rights. It runs on a platform thread started for that one
 * call, whose filesystem uid, gid and groups are the client's (setfsuid, setfsgid and setgroups
 * act on that thread alone), so the kernel checks every path component and every access as it
 * would for the client: a non-zero fsuid also drops CAP_DAC_OVERRIDE and the other filesystem
 * capabilities. The thread ends with the call, so nothing else ever runs with these ids, and a
 * failure to set them, or to set them back, cannot leave a thread of the daemon with the wrong ones.
 */
final class AsUser {
    private AsUser() {}

    @FunctionalInterface
    interface Work<T> {
        T run() throws IOException;
    }

    static <T> T call(Peer peer, Work<T> work) throws IOException {
        if (peer.isRoot()) return work.run();
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = Thread.ofPlatform().name("as-uid-" + peer.uid()).unstarted(() -> {
            try {
                CredentialSyscalls.setgroups(peer.groups());
                CredentialSyscalls.setfsgid(peer.gid());
                CredentialSyscalls.setfsuid(peer.uid());
                result[0] = work.run();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join(); // the work's descriptors must not be left to a thread nobody waits for
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        switch (failure[0]) {
            case null -> {}
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(failure[0]);
        }
        @SuppressWarnings("unchecked") T r = (T) result[0];
        return r;
    }
}
