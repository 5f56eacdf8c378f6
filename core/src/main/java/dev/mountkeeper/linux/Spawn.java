package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * posix_spawn(3) with the file actions and attributes a sandbox needs. The child inherits the
 * calling thread's root, working directory and namespaces, which is how a sandbox thread puts
 * its command inside them. Unlike most of libc, the posix_spawn family returns the error number
 * instead of setting errno.
 *
 * @param path     the program, already resolved (no PATH search here)
 * @param dup2     child fd number to the parent fd that becomes it (the standard streams, and
 *                 any more); every other descriptor above 2 is closed in the child
 * @param cwd      working directory of the child, or null for the caller's
 */
public record Spawn(String path, List<String> argv, List<String> env, String cwd, Map<Integer, Fd> dup2) {
    private static final short POSIX_SPAWN_SETPGROUP = 0x02;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    private static final long SPAWN_STRUCT_SIZE = 1024; // larger than glibc's 80 and 336 bytes
    private static final long SIGSET_SIZE = 128;

    private static final MethodHandle SPAWN = Native.plainCall("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle FA_INIT = Native.plainCall("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DESTROY = Native.plainCall("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DUP2 = Native.plainCall("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_CHDIR = Native.plainCall("posix_spawn_file_actions_addchdir_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle FA_CLOSEFROM = Native.optionalPlainCall("posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ATTR_INIT = Native.plainCall("posix_spawnattr_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_DESTROY = Native.plainCall("posix_spawnattr_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_FLAGS = Native.plainCall("posix_spawnattr_setflags",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    private static final MethodHandle ATTR_SIGMASK = Native.plainCall("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_SIGDEFAULT = Native.plainCall("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGFILLSET = Native.plainCall("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = Native.plainCall("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    public Spawn {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        dup2 = Map.copyOf(dup2);
    }

    /**
     * {@code int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
     * const posix_spawnattr_t *attr, char *const argv[], char *const envp[])}. Every signal is
     * reset to its default and unblocked in the child.
     */
    public int start() throws ErrnoException {
        return start((short) 0);
    }

    /** The same, the child leading a process group of its own (so that all it starts can be killed at once). */
    public int startInOwnGroup() throws ErrnoException {
        return start(POSIX_SPAWN_SETPGROUP);
    }

    /** The same, the child leading a session of its own: no controlling terminal, none of the caller's to write into. */
    public int startInNewSession() throws ErrnoException {
        return start(POSIX_SPAWN_SETSID);
    }

    private int start(short extraFlags) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fa = a.allocate(SPAWN_STRUCT_SIZE, 16);
            MemorySegment attr = a.allocate(SPAWN_STRUCT_SIZE, 16);
            check((int) FA_INIT.invokeExact(fa), "posix_spawn_file_actions_init");
            check((int) ATTR_INIT.invokeExact(attr), "posix_spawnattr_init");
            try {
                for (var e : dup2.entrySet()) {
                    check((int) FA_DUP2.invokeExact(fa, e.getValue().get(), (int) e.getKey()), "posix_spawn_file_actions_adddup2");
                }
                if (cwd != null) check((int) FA_CHDIR.invokeExact(fa, Native.path(a, cwd)), "posix_spawn_file_actions_addchdir_np");
                // Our descriptors are all O_CLOEXEC; this also closes any a library opened without it.
                int keep = Math.max(2, dup2.keySet().stream().mapToInt(Integer::intValue).max().orElse(2));
                if (FA_CLOSEFROM != null) {
                    check((int) FA_CLOSEFROM.invokeExact(fa, keep + 1), "posix_spawn_file_actions_addclosefrom_np");
                }
                MemorySegment all = a.allocate(SIGSET_SIZE, 8);
                MemorySegment none = a.allocate(SIGSET_SIZE, 8);
                int ignored = (int) SIGFILLSET.invokeExact(all) | (int) SIGEMPTYSET.invokeExact(none);
                check((int) ATTR_SIGDEFAULT.invokeExact(attr, all), "posix_spawnattr_setsigdefault");
                check((int) ATTR_SIGMASK.invokeExact(attr, none), "posix_spawnattr_setsigmask");
                short flags = (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | extraFlags);
                check((int) ATTR_FLAGS.invokeExact(attr, flags),
                        "posix_spawnattr_setflags");
                MemorySegment pid = a.allocate(JAVA_INT);
                int r = (int) SPAWN.invokeExact(pid, Native.path(a, path), fa, attr, strings(a, argv), strings(a, env));
                if (r != 0) {
                    throw new ErrnoException("posix_spawn", "posix_spawn(pid, " + Quote.string(path) + ", fa, attr, "
                            + Quote.string(String.join(" ", argv)) + ", envp)", new Errno(r));
                }
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(fa) | (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (ErrnoException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    private static void check(int r, String call) throws ErrnoException {
        if (r != 0) throw new ErrnoException(call, call + "(...)", new Errno(r));
    }

    /** A NULL-terminated array of C strings. */
    private static MemorySegment strings(Arena a, List<String> values) {
        MemorySegment arr = a.allocate(ADDRESS, values.size() + 1L);
        for (int i = 0; i < values.size(); i++) arr.setAtIndex(ADDRESS, i, Native.path(a, values.get(i)));
        arr.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return arr;
    }
}
