package dev.mountkeeper.provider;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.LoopSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountProvider;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code image:FILE:DEST}: a squashfs or ext4 image, read-only, through a loop device that goes
 * away by itself (LO_FLAGS_AUTOCLEAR) when the mount does.
 */
final class ImageProvider implements MountProvider {
    @Override
    public String name() {
        return "image";
    }

    @Override
    public Kind mount(Request r) throws IOException {
        if (!r.options().isEmpty()) throw invalid("takes no options, found " + String.join(",", r.options()));
        if (!r.source().startsWith("/")) throw invalid("needs the absolute path of an image file");
        Fd image;
        try {
            image = openat2(AT_FDCWD, r.source(), O_RDONLY, 0, 0);
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.INVALID_INPUT, "image: cannot open " + Quote.string(r.source()), e);
        }
        try (image) {
            String type = type(r.source(), image);
            // Our fd keeps the device until the mount holds it; closed, the device clears itself.
            try (Loop loop = attach(image)) {
                Files.createDirectory(Path.of(r.staging()));
                try {
                    MountSyscalls.mount(loop.path(), r.staging(), type, MountSyscalls.MS_RDONLY | MountSyscalls.MS_NOSUID
                            | MountSyscalls.MS_NODEV, null);
                } catch (ErrnoException e) {
                    throw new MountException(MountException.Reason.SYSTEM, "image: failed to mount " + Quote.string(r.source())
                            + " (" + type + ") from " + loop.path(), e);
                }
            }
            return Kind.DIRECTORY;
        }
    }

    /** squashfs or ext4, from the image's magic numbers, read from the descriptor the loop device gets. */
    private static String type(String file, Fd image) throws IOException {
        byte[] head = new byte[0];
        while (head.length < 2048) {
            byte[] more = ProcessSyscalls.read(image, 2048 - head.length);
            if (more.length == 0) break;
            byte[] both = java.util.Arrays.copyOf(head, head.length + more.length);
            System.arraycopy(more, 0, both, head.length, more.length);
            head = both;
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (head.length >= 4 && b.getInt(0) == 0x73717368) return "squashfs";
        if (head.length >= 1082 && (b.getShort(1080) & 0xffff) == 0xef53) return "ext4";
        throw invalid(Quote.string(file) + " is neither a squashfs nor an ext2/3/4 image");
    }

    private record Loop(String path, Fd fd) implements AutoCloseable {
        @Override
        public void close() {
            fd.close();
        }
    }

    /** A free loop device backed by the image, read-only, cleared with its last user. */
    private static Loop attach(Fd image) throws IOException {
        try (Fd control = openat2(AT_FDCWD, "/dev/loop-control", O_RDWR, 0, 0)) {
            for (int attempt = 0; ; attempt++) {
                int n = LoopSyscalls.getFree(control);
                String path = "/dev/loop" + n;
                Fd loop = openat2(AT_FDCWD, path, O_RDONLY, 0, 0);
                try {
                    LoopSyscalls.configure(loop, image, LoopSyscalls.LO_FLAGS_READ_ONLY | LoopSyscalls.LO_FLAGS_AUTOCLEAR);
                    return new Loop(path, loop);
                } catch (ErrnoException e) {
                    loop.close();
                    if (!e.is(Errno.EBUSY) || attempt >= 8) throw e; // taken by someone else meanwhile
                }
            }
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.SYSTEM, "image: no loop device", e);
        }
    }

    private static MountException invalid(String why) {
        return new MountException(MountException.Reason.INVALID_INPUT, "image: " + why);
    }
}
