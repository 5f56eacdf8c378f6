package dev.mountkeeper.shared;

import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.mount.MountSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A provider spec's sources, opened once with the client's credentials and checked there, and
 * handed to the provider as {@code /proc/thread-self/fd/N} of those descriptors, so what the provider
 * mounts is what was checked, whatever the paths lead to meanwhile. Open while the mount is made.
 * Other specs, and root's (whose grant allows any source), pass unchanged.
 */
record ProviderSources(MountSpec spec, List<Fd> fds) implements AutoCloseable {
    static ProviderSources open(Peer peer, MountSpec spec, Policy.Grant grant) throws IOException {
        if (!(spec instanceof MountSpec.Provided p) || grant.sources() == null) return new ProviderSources(spec, List.of());
        List<Fd> fds = new ArrayList<>();
        try {
            List<String> parts = new ArrayList<>();
            for (String part : p.source().split("\\+", -1)) {
                Fd fd = Rights.openSource(peer, part, grant, true);
                fds.add(fd);
                parts.add("/proc/thread-self/fd/" + fd.get());
            }
            return new ProviderSources(new MountSpec.Provided(p.provider(), String.join("+", parts), p.dest(),
                    p.providerOptions()), List.copyOf(fds));
        } catch (IOException | RuntimeException e) {
            fds.forEach(Fd::close);
            throw e;
        }
    }

    @Override
    public void close() {
        fds.forEach(Fd::close);
    }
}
