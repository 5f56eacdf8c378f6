package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.time.Duration;

/**
 * Processes: pipe2(2), read(2), write(2), wait4(2), pidfd_open(2), poll(2), kill(2),
 * sethostname(2), prctl(2). Starting a process is {@link Spawn}.
 */
public final class ProcessSyscalls {
    private ProcessSyscalls() {}

    public static final int SIGKILL = 9;
    public static final int PR_CAPBSET_DROP = 24;
    public static final int PR_SET_NO_NEW_PRIVS = 38;
    public static final int PR_CAP_AMBIENT = 47;
    public static final int PR_CAP_AMBIENT_CLEAR_ALL = 4;
    private static final short POLLIN = 1;
    private static final long SYS_PIDFD_OPEN = 434; // the same number on every architecture

    private static final MethodHandle PIPE2 = Native.errnoCall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READ = Native.errnoCall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = Native.errnoCall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WAIT4 = Native.errnoCall("wait4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle POLL = Native.errnoCall("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle KILL = Native.errnoCall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETHOSTNAME = Native.errnoCall("sethostname",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle GETEUID = Native.plainCall("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPPID = Native.plainCall("getppid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle UMASK = Native.plainCall("umask", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EXECVE = Native.errnoCall("execve",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle PRCTL = Native.variadicErrnoCall("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);

    /** A pipe: {@code read} and {@code write} ends, both close-on-exec. */
    public record Pipe(Fd read, Fd write) implements AutoCloseable {
        @Override
        public void close() {
            if (read.isOpen()) read.close();
            if (write.isOpen()) write.close();
        }
    }

    /** {@code int pipe2(int pipefd[2], O_CLOEXEC)}, see pipe(2). */
    public static Pipe pipe() throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            Calls.check((int) PIPE2.invokeExact(cs, fds, FileSyscalls.O_CLOEXEC), cs, "pipe2", () -> "fds, O_CLOEXEC");
            return new Pipe(Fd.adopt(fds.getAtIndex(JAVA_INT, 0)), Fd.adopt(fds.getAtIndex(JAVA_INT, 1)));
        });
    }

    /** {@code ssize_t read(int fd, void *buf, size_t count)}; returns the bytes read (empty at end of file). */
    public static byte[] read(Fd fd, int max) throws ErrnoException {
        int raw = fd.get();
        return Calls.call((a, cs) -> {
            MemorySegment buf = a.allocate(max);
            long n = Calls.check((long) READ.invokeExact(cs, raw, buf, (long) max), cs, "read", () -> raw + ", buf, " + max);
            return buf.asSlice(0, n).toArray(JAVA_BYTE);
        });
    }

    /** {@code ssize_t write(int fd, const void *buf, size_t count)}, repeated until all is written. */
    public static void writeAll(Fd fd, byte[] data) throws ErrnoException {
        int raw = fd.get();
        Calls.call((a, cs) -> {
            MemorySegment buf = a.allocateFrom(JAVA_BYTE, data);
            long off = 0;
            while (off < data.length) {
                long left = data.length - off;
                long n = (long) WRITE.invokeExact(cs, raw, buf.asSlice(off), left);
                if (n < 0 && Native.errno(cs) == Errno.EINTR.number()) continue;
                off += Calls.check(n, cs, "write", () -> raw + ", buf, " + left);
            }
            return null;
        });
    }

    /** How a child ended, with its resource usage. */
    public record Exit(int pid, int exitCode, int signal, ResourceUsage usage) {
        public boolean signaled() { return signal != 0; }
    }

    /** {@code pid_t wait4(pid_t pid, int *wstatus, 0, struct rusage *rusage)}: waits for the child to end. */
    public static Exit wait4(int pid) throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment status = a.allocate(JAVA_INT);
            MemorySegment ru = a.allocate(ResourceUsage.SIZE, 8);
            int r;
            do {
                r = (int) WAIT4.invokeExact(cs, pid, status, 0, ru);
            } while (r < 0 && Native.errno(cs) == Errno.EINTR.number());
            int got = (int) Calls.check(r, cs, "wait4", () -> pid + ", status, 0, rusage");
            int st = status.get(JAVA_INT, 0);
            int termSig = st & 0x7f;
            return termSig == 0 ? new Exit(got, (st >> 8) & 0xff, 0, ResourceUsage.of(ru))
                    : new Exit(got, -1, termSig, ResourceUsage.of(ru));
        });
    }

    /** {@code int pidfd_open(pid_t pid, unsigned int flags)}, see pidfd_open(2). */
    public static Fd pidfdOpen(int pid) throws ErrnoException {
        return Calls.call((a, cs) -> Fd.adopt((int) Calls.check(Native.syscall(cs, SYS_PIDFD_OPEN, pid, 0), cs,
                "pidfd_open", () -> pid + ", 0")));
    }

    /**
     * {@code int poll(struct pollfd *fds, nfds_t nfds, int timeout)} for readability of {@code fds};
     * returns the index of the first ready fd, or -1 when the timeout passed (null waits forever).
     */
    public static int pollReadable(Duration timeout, Fd... fds) throws ErrnoException {
        long ms = timeout == null ? -1 : Math.min(Integer.MAX_VALUE, Math.max(0, timeout.toMillis()));
        return Calls.call((a, cs) -> {
            MemorySegment p = a.allocate(8L * fds.length, 4);
            for (int i = 0; i < fds.length; i++) {
                p.set(JAVA_INT, 8L * i, fds[i].get());
                p.set(JAVA_SHORT, 8L * i + 4, POLLIN);
            }
            int r;
            do {
                r = (int) POLL.invokeExact(cs, p, (long) fds.length, (int) ms);
            } while (r < 0 && Native.errno(cs) == Errno.EINTR.number());
            Calls.check(r, cs, "poll", () -> "fds, " + fds.length + ", " + ms);
            for (int i = 0; i < fds.length; i++) if (p.get(JAVA_SHORT, 8L * i + 6) != 0) return i;
            return -1;
        });
    }

    /** {@code int kill(pid_t pid, int sig)}, see kill(2). */
    public static void kill(int pid, int signal) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) KILL.invokeExact(cs, pid, signal), cs, "kill", () -> pid + ", " + signal));
    }

    /** {@code int sethostname(const char *name, size_t len)}, for the calling thread's UTS namespace. */
    public static void sethostname(String name) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment s = Native.path(a, name);
            long len = s.byteSize() - 1;
            return Calls.check((int) SETHOSTNAME.invokeExact(cs, s, len), cs, "sethostname",
                    () -> Quote.string(name) + ", " + len);
        });
    }

    /** {@code pid_t getppid(void)}. */
    /** {@code mode_t umask(mode_t mask)}: sets the process's file mode creation mask, returns the old one. */
    public static int umask(int mask) {
        try {
            return (int) UMASK.invokeExact(mask);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public static int getppid() {
        try {
            return (int) GETPPID.invokeExact();
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code uid_t geteuid(void)}. */
    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * {@code int execve(const char *path, char *const argv[], char *const envp[])}: replaces this
     * whole process (every JVM thread ends); returns only by throwing.
     */
    public static void execve(String path, java.util.List<String> argv, java.util.List<String> env) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment args = a.allocate(ADDRESS, argv.size() + 1L);
            for (int i = 0; i < argv.size(); i++) args.setAtIndex(ADDRESS, i, Native.path(a, argv.get(i)));
            MemorySegment envp = a.allocate(ADDRESS, env.size() + 1L);
            for (int i = 0; i < env.size(); i++) envp.setAtIndex(ADDRESS, i, Native.path(a, env.get(i)));
            return Calls.check((int) EXECVE.invokeExact(cs, Native.path(a, path), args, envp), cs, "execve",
                    () -> Quote.string(path) + ", " + Quote.string(String.join(" ", argv)) + ", envp");
        });
    }

    /** {@code int prctl(int option, unsigned long arg2, arg3, arg4, arg5)}; acts on the calling thread. */
    public static void prctl(int option, long arg2, long arg3) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) PRCTL.invokeExact(cs, option, arg2, arg3, 0L, 0L), cs, "prctl",
                () -> option + ", " + arg2 + ", " + arg3 + ", 0, 0"));
    }
}
