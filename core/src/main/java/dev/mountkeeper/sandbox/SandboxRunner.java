package dev.mountkeeper.sandbox;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls.Pipe;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.UnmountPolicy;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Runs sandboxes. Each run has a platform thread to itself, because namespaces and the root are
 * changed for that thread only (threads are reused, see {@link SessionThreads}); many runs may go on at once.
 */
public final class SandboxRunner {
    static {
        // After the pivot the sandbox thread cannot load classes from the class path (it sees the
        // sandbox's files, not ours): the few it uses until it steps back are loaded here, up front.
        for (Class<?> c : new Class<?>[] {dev.mountkeeper.linux.Spawn.class, ErrnoException.class,
                dev.mountkeeper.linux.Errno.class, ProcessSyscalls.class, Capabilities.class,
                dev.mountkeeper.linux.NamespaceSyscalls.class, dev.mountkeeper.linux.MountSyscalls.class,
                dev.mountkeeper.linux.Quote.class, dev.mountkeeper.linux.CapabilitySyscalls.class,
                dev.mountkeeper.linux.CapabilitySyscalls.Sets.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    private static final SessionThreads THREADS = new SessionThreads();

    private final Mounter mounter;

    public SandboxRunner() {
        this(KernelFeatures.current());
    }

    public SandboxRunner(KernelFeatures features) {
        this(features, true);
    }

    /** @param createMountpoints create a missing mountpoint (else a mount onto it fails and names it) */
    public SandboxRunner(KernelFeatures features, boolean createMountpoints) {
        this.mounter = new Mounter(features, createMountpoints, UnmountPolicy.DEFAULT);
    }

    /** Runs the sandbox to the end. */
    public RunResult run(Sandbox sandbox) throws IOException, InterruptedException {
        return start(sandbox).waitFor();
    }

    /** Starts the sandbox on its own thread; the returned handle waits for it or cancels it. */
    public Execution start(Sandbox sandbox) throws IOException {
        Pipe wake = ProcessSyscalls.pipe();
        Session session = new Session(sandbox, mounter, wake);
        CompletableFuture<RunResult> result = new CompletableFuture<>();
        SessionThreads.Worker thread = THREADS.run(t -> {
            try {
                result.complete(session.run(t));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            } finally {
                synchronized (wake) {
                    wake.close();
                }
            }
        }, Session.needsCapabilities(sandbox, mounter.features()));
        return new Execution(session, wake, result, thread);
    }

    /** A started run. */
    public static final class Execution {
        private final Session session;
        private final Pipe wake;
        private final CompletableFuture<RunResult> result;
        private final SessionThreads.Worker thread;

        Execution(Session session, Pipe wake, CompletableFuture<RunResult> result, SessionThreads.Worker thread) {
            this.session = session;
            this.wake = wake;
            this.result = result;
            this.thread = thread;
        }

        /** Kills the command and everything it started; the result then says cancelled. */
        public void cancel() {
            session.cancel();
            synchronized (wake) { // never write to the number after the run closed it
                try {
                    if (wake.write().isOpen()) ProcessSyscalls.writeAll(wake.write(), new byte[] {1});
                } catch (ErrnoException e) {
                    // the run is ending anyway
                }
            }
        }

        public RunResult waitFor() throws IOException, InterruptedException {
            try {
                RunResult r = result.get();
                if (thread.retiring) thread.thread.join(); // a thread still in the sandbox's mount namespace keeps it alive
                return r;
            } catch (InterruptedException e) {
                cancel();
                throw e;
            } catch (ExecutionException e) {
                if (thread.retiring) thread.thread.join();
                Throwable c = e.getCause();
                if (c instanceof IOException io) throw io;
                if (c instanceof RuntimeException re) throw re;
                if (c instanceof Error err) throw err;
                throw new IOException(c);
            }
        }
    }
}
