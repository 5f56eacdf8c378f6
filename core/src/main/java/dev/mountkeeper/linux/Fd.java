package dev.mountkeeper.linux;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open file descriptor that we own. Closing it twice is a bug (the number may already belong to
 * someone else), so it is refused loudly instead of closing a stranger's descriptor.
 */
public final class Fd implements AutoCloseable {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Fd(int fd) {
        if (fd < 0) throw new IllegalArgumentException("not a file descriptor: " + fd);
        this.fd = fd;
    }

    /** Takes ownership of {@code fd}. */
    public static Fd adopt(int fd) {
        return new Fd(fd);
    }

    /** The number, for passing to a system call while this Fd is open. */
    public int get() {
        if (closed.get()) throw new IllegalStateException("fd " + fd + " is already closed");
        return fd;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            throw new IllegalStateException("fd " + fd + " closed twice");
        }
        FileSyscalls.closeQuietly(fd);
    }

    @Override
    public String toString() {
        return Integer.toString(fd);
    }
}
