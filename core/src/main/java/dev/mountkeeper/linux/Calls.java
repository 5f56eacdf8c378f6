package dev.mountkeeper.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * Runs one native call in its own confined arena (its strings, structs and errno capture live
 * exactly as long as the call) and turns a failure into an ErrnoException, formatting the
 * arguments only when it failed.
 */
final class Calls {
    private Calls() {}

    @FunctionalInterface
    interface Body<T> {
        T run(Arena arena, MemorySegment capture) throws Throwable;
    }

    static <T> T call(Body<T> body) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            return body.run(a, Native.captureState(a));
        } catch (ErrnoException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    static long check(long result, MemorySegment capture, String syscall, Supplier<String> args)
            throws ErrnoException {
        if (result >= 0) return result;
        throw new ErrnoException(syscall, syscall + "(" + args.get() + ")", new Errno(Native.errno(capture)));
    }

    static String dirfd(int fd) {
        return fd == FileSyscalls.AT_FDCWD ? "AT_FDCWD" : Integer.toString(fd);
    }
}
