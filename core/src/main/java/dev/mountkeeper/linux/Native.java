package dev.mountkeeper.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The one place that talks to the linker. Handles are built once; errno is captured per call into
 * memory owned by that call's arena, never into a shared buffer, so concurrent calls cannot see
 * each other's errno.
 */
final class Native {
    private Native() {}

    static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** A libc function whose errno we care about; the first parameter of the handle is the capture segment. */
    static MethodHandle errnoCall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor, CAPTURE_ERRNO);
    }

    /** A variadic libc function (openat, fcntl): arguments from {@code firstVariadic} on are variadic. */
    static MethodHandle variadicErrnoCall(String name, FunctionDescriptor descriptor, int firstVariadic) {
        return LINKER.downcallHandle(symbol(name), descriptor, CAPTURE_ERRNO,
                Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /** A libc function that cannot fail (or whose failure is not reported through errno). */
    static MethodHandle plainCall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor);
    }

    /** A libc function that older glibc versions lack; null there, and the caller has a fallback. */
    static MethodHandle optionalPlainCall(String name, FunctionDescriptor descriptor) {
        return LINKER.defaultLookup().find(name).map(s -> LINKER.downcallHandle(s, descriptor)).orElse(null);
    }

    private static final MethodHandle[] SYSCALL = new MethodHandle[7];

    static {
        for (int arity = 0; arity < SYSCALL.length; arity++) {
            // long syscall(long number, ...): every argument is passed as a long so that the kernel
            // never sees the undefined upper half of a 32-bit register.
            ValueLayout[] args = new ValueLayout[arity + 1];
            java.util.Arrays.fill(args, ValueLayout.JAVA_LONG);
            MemorySegment symbol = LINKER.defaultLookup().find("syscall").orElseThrow();
            SYSCALL[arity] = LINKER.downcallHandle(symbol,
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, args),
                    CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));
        }
    }

    /** A per-call capture buffer. */
    static MemorySegment captureState(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    static int errno(MemorySegment captureState) {
        return (int) ERRNO.get(captureState, 0L);
    }

    /** Raw syscall(2); returns the kernel's result, or -1 with errno in {@code capture}. */
    static long syscall(MemorySegment capture, long number, long... args) {
        try {
            return switch (args.length) {
                case 0 -> (long) SYSCALL[0].invokeExact(capture, number);
                case 1 -> (long) SYSCALL[1].invokeExact(capture, number, args[0]);
                case 2 -> (long) SYSCALL[2].invokeExact(capture, number, args[0], args[1]);
                case 3 -> (long) SYSCALL[3].invokeExact(capture, number, args[0], args[1], args[2]);
                case 4 -> (long) SYSCALL[4].invokeExact(capture, number, args[0], args[1], args[2], args[3]);
                case 5 -> (long) SYSCALL[5].invokeExact(capture, number, args[0], args[1], args[2], args[3], args[4]);
                case 6 -> (long) SYSCALL[6].invokeExact(capture, number, args[0], args[1], args[2], args[3], args[4], args[5]);
                default -> throw new IllegalArgumentException("syscall takes at most 6 arguments");
            };
        } catch (Throwable t) {
            throw linkageBug(t);
        }
    }

    /** A C string for a path; a NUL inside would silently cut the path short, so it is refused. */
    static MemorySegment path(Arena arena, String path) {
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("path contains a NUL byte: " + Quote.string(path));
        }
        return arena.allocateFrom(path);
    }

    static MemorySegment nullablePath(Arena arena, String path) {
        return path == null ? MemorySegment.NULL : path(arena, path);
    }

    /** A Throwable from invokeExact means our descriptor is wrong, not that the call failed. */
    static AssertionError linkageBug(Throwable t) {
        if (t instanceof Error e) throw e;
        return new AssertionError("native call failed to link or run", t);
    }
}
