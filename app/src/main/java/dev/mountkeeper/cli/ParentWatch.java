package dev.mountkeeper.cli;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.ProcessSyscalls;

/**
 * --die-with-parent: a thread waits on a pidfd of our parent and halts the JVM the moment it
 * exits. The JVM's end closes every sandbox's lifeline, so each PID 1 exits and the kernel kills
 * the rest. A JVM cannot use PR_SET_PDEATHSIG (it belongs to the thread that forked, and Java's
 * main thread is not the one the parent forked).
 */
final class ParentWatch {
    private ParentWatch() {}

    static void start() throws ErrnoException {
        int parent = ProcessSyscalls.getppid();
        Fd pidfd = ProcessSyscalls.pidfdOpen(parent);
        // Opened after it had died (we were reparented meanwhile): it is gone already.
        if (ProcessSyscalls.getppid() != parent) Runtime.getRuntime().halt(1);
        Thread t = new Thread(() -> {
            try {
                while (ProcessSyscalls.pollReadable(null, pidfd) != 0) {
                    // woken without the parent's exit: wait again
                }
            } catch (ErrnoException e) {
                // cannot watch any more; fall through and end, as if it had died
            }
            Runtime.getRuntime().halt(1);
        }, "mountkeeper-die-with-parent");
        t.setDaemon(true);
        t.start();
    }
}
