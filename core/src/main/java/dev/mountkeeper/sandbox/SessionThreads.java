package dev.mountkeeper.sandbox;

import static dev.mountkeeper.linux.FileSyscalls.*;
import static dev.mountkeeper.linux.NamespaceSyscalls.*;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.NamespaceSyscalls;
import dev.mountkeeper.mount.MountException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The platform threads sessions run on. Namespaces, root and capability bounding set are per
 * thread, so a session changes its thread; a thread that got back into all of its home
 * namespaces afterwards is kept for the next session (starting one cost about a tenth of a run),
 * one that did not (a rootless run stays in the sandbox's mount namespace) ends. A thread whose
 * bounding set was emptied serves only sessions that need no capabilities in their children: its
 * children get none, not the command, nor a mount(8) or a provider started for the session.
 */
final class SessionThreads {
    private static final long KEEP_ALIVE_SECONDS = 30;

    /**
     * Starts every thread of the pool. A new thread is born with the namespaces, capability
     * bounding set and no_new_privs of the thread that starts it: started by whichever thread asks
     * for a run, one would take that thread's state for home and bring it to every later run.
     */
    private final ThreadPoolExecutor starter = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), r -> Thread.ofPlatform().name("mountkeeper-sandbox-starter").daemon(true).unstarted(r));
    /** What the starter's threads are born with; a thread born otherwise refuses to serve. */
    private final List<String> birthplace = birthmarks();

    /** Idle threads, by whether they have dropped their capabilities. Guarded by this. */
    private final Deque<Worker> full = new ArrayDeque<>();
    private final Deque<Worker> dropped = new ArrayDeque<>();

    SessionThreads() {
        starter.prestartCoreThread(); // now, from the thread making the pool
    }

    /**
     * Runs {@code task} on an idle thread that suits it, or on a new one.
     *
     * @param needsCapabilities some child of the session needs capabilities: a thread that dropped them won't do
     */
    Worker run(Task task, boolean needsCapabilities) {
        while (true) {
            Worker w;
            synchronized (this) {
                w = needsCapabilities ? full.pollFirst() : dropped.isEmpty() ? full.pollFirst() : dropped.pollFirst();
            }
            if (w == null) return Worker.start(this, task);
            try {
                // A parked thread reaches its poll within microseconds; one that is ending never does.
                if (w.inbox.offer(task, 5, TimeUnit.MILLISECONDS)) return w;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Worker.start(this, task);
            }
        }
    }

    private synchronized void park(Worker w) {
        (w.capsDropped ? dropped : full).addFirst(w);
    }

    private synchronized void unpark(Worker w) {
        if (!full.remove(w)) dropped.remove(w);
    }

    static MountException noHome() {
        return new MountException(MountException.Reason.SYSTEM, "A sandbox thread was not born as the pool's threads are"
                + " (in other namespaces, or with fewer capabilities), or /proc/thread-self is unreadable");
    }

    /**
     * The calling thread's mount and pid (for children) namespaces as the kernel names them, and
     * its capability bounding set and no_new_privs.
     */
    private static List<String> birthmarks() {
        try {
            List<String> marks = new ArrayList<>(List.of(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/mnt")).toString(),
                    Files.readSymbolicLink(Path.of("/proc/thread-self/ns/pid_for_children")).toString()));
            for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
                if (line.startsWith("CapBnd:") || line.startsWith("NoNewPrivs:")) marks.add(line);
            }
            return marks;
        } catch (IOException e) {
            return List.of("unreadable at " + System.nanoTime()); // then no thread of this pool can serve
        }
    }

    /** What a session does on its thread. */
    interface Task {
        void run(Worker thread);
    }

    /** One session thread and what it knows about itself. */
    static final class Worker implements Runnable {
        private final SynchronousQueue<Task> inbox = new SynchronousQueue<>();
        private final SessionThreads pool;
        private Task next;
        final Thread thread;
        /** This thread's own namespaces and root, opened when it started: where a session steps back to. */
        Home home;
        boolean capsDropped;
        /** Set (before the session's result is) when the thread will end instead of being reused. */
        volatile boolean retiring;

        private Worker(SessionThreads pool, Task first) {
            this.pool = pool;
            this.next = first;
            this.thread = Thread.ofPlatform().name("mountkeeper-sandbox").daemon(true).unstarted(this);
        }

        static Worker start(SessionThreads pool, Task first) {
            Worker w = new Worker(pool, first);
            pool.starter.execute(w.thread::start);
            return w;
        }

        @Override
        public void run() {
            try {
                home = pool.birthplace.equals(birthmarks()) ? Home.open() : null;
            } catch (ErrnoException e) {
                home = null;
            }
            if (home == null) retiring = true; // the session fails on it and says why
            try {
                while (next != null) {
                    Task t = next;
                    next = null;
                    t.run(this);
                    if (retiring) return;
                    pool.park(this);
                    next = inbox.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                    if (next == null) pool.unpark(this); // if someone took it just now, their hand-over fails
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                retiring = true;
                if (home != null) home.close();
            }
        }
    }

    /** A thread's home: its mount, pid, IPC, UTS and network namespaces, its root and working directory. */
    record Home(Fd mnt, Fd pid, Fd ipc, Fd uts, Fd net, Fd root, Fd cwd) implements AutoCloseable {
        static Home open() throws ErrnoException {
            Fd[] fds = new Fd[7];
            String[] names = {"mnt", "pid", "ipc", "uts", "net"};
            try {
                for (int i = 0; i < names.length; i++) {
                    fds[i] = openat(AT_FDCWD, "/proc/thread-self/ns/" + names[i], O_RDONLY, 0);
                }
                fds[5] = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY, 0);
                fds[6] = openat(AT_FDCWD, ".", O_PATH | O_DIRECTORY, 0);
                return new Home(fds[0], fds[1], fds[2], fds[3], fds[4], fds[5], fds[6]);
            } catch (ErrnoException e) {
                for (Fd fd : fds) if (fd != null) fd.close();
                throw e;
            }
        }

        /**
         * Back into these namespaces, root and working directory; false if that is not possible,
         * and the thread must then end. In a user namespace setns into the host's mount namespace
         * is not allowed: the thread takes the host's root back with chroot, and stays a member of
         * the sandbox's mount namespace until it ends (the runner joins it before returning).
         *
         * @param unshared the CLONE_NEW* flags the thread unshared or joined others of
         */
        boolean returnTo(int unshared) throws ErrnoException {
            try {
                NamespaceSyscalls.setns(mnt, CLONE_NEWNS);
            } catch (ErrnoException e) {
                if (!e.is(Errno.EPERM)) throw e;
                fchdir(root);
                NamespaceSyscalls.chroot(".");
                fchdir(cwd);
                return false;
            }
            fchdir(cwd);
            if ((unshared & CLONE_NEWPID) != 0) NamespaceSyscalls.setns(pid, CLONE_NEWPID);
            if ((unshared & CLONE_NEWIPC) != 0) NamespaceSyscalls.setns(ipc, CLONE_NEWIPC);
            if ((unshared & CLONE_NEWUTS) != 0) NamespaceSyscalls.setns(uts, CLONE_NEWUTS);
            if ((unshared & CLONE_NEWNET) != 0) NamespaceSyscalls.setns(net, CLONE_NEWNET);
            return true;
        }

        @Override
        public void close() {
            for (Fd fd : List.of(mnt, pid, ipc, uts, net, root, cwd)) fd.close();
        }
    }
}
