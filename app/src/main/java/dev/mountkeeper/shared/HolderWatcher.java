package dev.mountkeeper.shared;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.ProcessSyscalls;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Watches holder processes through pidfds and reports each one's death once, however it died.
 * One thread polls every pidfd plus a wake-up pipe; only that thread closes pidfds, so a number
 * being polled is never closed and reused underneath it.
 */
final class HolderWatcher implements AutoCloseable {
    /** A holder as the watcher knows it: pid plus start time. */
    record Key(long pid, long startTime) {
        static Key of(dev.mountkeeper.shared.proto.Holder h) {
            return new Key(h.getPid(), h.getStartTime());
        }
    }

    private final Consumer<Key> onDeath;
    private final ProcessSyscalls.Pipe wake;
    private final ConcurrentLinkedQueue<Runnable> changes = new ConcurrentLinkedQueue<>();
    private final Map<Key, Fd> watched = new LinkedHashMap<>(); // the watcher thread's own
    private final Thread thread;
    private final java.util.concurrent.atomic.AtomicBoolean poked = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    HolderWatcher(Consumer<Key> onDeath) throws ErrnoException {
        this.onDeath = onDeath;
        this.wake = ProcessSyscalls.pipe();
        this.thread = Thread.ofPlatform().name("holder-watcher").daemon().start(this::loop);
    }

    /**
     * Starts watching; if the process is gone already, or its pid now belongs to another process,
     * its death is reported right away.
     */
    void watch(Key key) {
        Fd pidfd;
        try {
            pidfd = ProcessSyscalls.pidfdOpen(Math.toIntExact(key.pid()));
        } catch (ErrnoException e) {
            changes.add(() -> onDeath.accept(key));
            poke();
            return;
        }
        // The pidfd names whatever process had the pid when it was opened: it must be ours.
        boolean ours = Processes.alive(key.pid(), key.startTime(), Processes.bootId());
        changes.add(() -> {
            if (!ours) {
                pidfd.close();
                onDeath.accept(key);
            } else if (watched.putIfAbsent(key, pidfd) != null) {
                pidfd.close();
            }
        });
        poke();
    }

    void unwatch(Key key) {
        changes.add(() -> {
            Fd fd = watched.remove(key);
            if (fd != null) fd.close();
        });
        poke();
    }

    /** At most one byte is ever in the pipe, so a poke never blocks, however busy the watcher is. */
    private void poke() {
        if (poked.getAndSet(true)) return;
        try {
            ProcessSyscalls.writeAll(wake.write(), new byte[] {1});
        } catch (ErrnoException e) {
            throw new IllegalStateException("Cannot wake the holder watcher: " + e.getMessage(), e);
        }
    }

    private void loop() {
        while (!closed) {
            poked.set(false);
            for (Runnable r; (r = changes.poll()) != null; ) r.run();
            List<Key> keys = new ArrayList<>(watched.keySet());
            Fd[] fds = new Fd[keys.size() + 1];
            fds[0] = wake.read();
            for (int i = 0; i < keys.size(); i++) fds[i + 1] = watched.get(keys.get(i));
            int ready;
            try {
                ready = ProcessSyscalls.pollReadable(null, fds);
            } catch (ErrnoException e) {
                System.getLogger("mountkeeper.daemon").log(System.Logger.Level.ERROR, "Holder watcher: " + e.getMessage());
                return;
            }
            if (ready == 0) {
                try {
                    ProcessSyscalls.read(wake.read(), 4096);
                } catch (ErrnoException e) {
                    return;
                }
            } else if (ready > 0) {
                Key dead = keys.get(ready - 1);
                watched.remove(dead).close();
                onDeath.accept(dead);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        poke();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watched.values().forEach(Fd::close);
        watched.clear();
        wake.read().close();
        wake.write().close();
    }
}
