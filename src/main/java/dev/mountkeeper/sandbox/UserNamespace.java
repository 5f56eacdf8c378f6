package dev.mountkeeper.sandbox;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.MountException;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Whether we run in a user namespace other than the initial one (a rootless run), and who we are outside. */
final class UserNamespace {
    private UserNamespace() {}

    /** The uid_map line of this process: "INSIDE OUTSIDE COUNT", or null if unreadable. */
    private static final String[] UID_MAP = readUidMap();

    /** The initial user namespace maps every id onto itself: "0 0 4294967295". */
    private static final boolean NESTED = UID_MAP != null && !String.join(" ", UID_MAP).equals("0 0 4294967295");

    /** {@code /tmp/.mountkeeper-root-UID}, UID being our uid on the host (outside any user namespace). */
    static String baseDirectory() {
        int uid = ProcessSyscalls.geteuid();
        if (NESTED && UID_MAP.length >= 3 && UID_MAP[0].equals(Integer.toString(uid))) {
            try {
                uid = Integer.parseInt(UID_MAP[1]);
            } catch (NumberFormatException e) {
                // keep the inner uid
            }
        }
        return "/tmp/.mountkeeper-root-" + uid;
    }

    /**
     * Creates BASE if missing, and refuses one that is not a plain directory of ours: /tmp is
     * shared, and someone else may have put a symlink or their own directory there first.
     */
    static void checkBase(String base) throws IOException {
        Statx st;
        try {
            st = statBase(base); // it is there on every run but the first
        } catch (ErrnoException missing) {
            if (!missing.is(Errno.ENOENT)) throw missing;
            try {
                FileSyscalls.mkdirat(FileSyscalls.AT_FDCWD, base, 0700);
            } catch (ErrnoException e) {
                if (!e.is(Errno.EEXIST)) throw new MountException(MountException.Reason.SYSTEM, "Failed to create " + Quote.string(base), e);
            }
            st = statBase(base);
        }
        if (st.isDirectory() && st.uid() == ProcessSyscalls.geteuid() && (st.mode() & 077) != 0) {
            // Ours, made more open by an older version or by hand: close it (in sticky /tmp nobody else can swap it).
            java.nio.file.Files.setPosixFilePermissions(java.nio.file.Path.of(base),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            st = statBase(base);
        }
        if (!st.isDirectory() || st.uid() != ProcessSyscalls.geteuid() || (st.mode() & 077) != 0) {
            throw new MountException(MountException.Reason.SYSTEM, "Refusing to build a sandbox on " + Quote.string(base)
                    + ": it is not a directory of ours with mode 0700 (a " + st.typeName() + " of uid " + st.uid() + ")");
        }
    }

    private static Statx statBase(String base) throws ErrnoException {
        return FileSyscalls.statx(FileSyscalls.AT_FDCWD, base, FileSyscalls.AT_SYMLINK_NOFOLLOW,
                FileSyscalls.STATX_TYPE | FileSyscalls.STATX_MODE | FileSyscalls.STATX_UID);
    }

    static boolean isNested() {
        return NESTED;
    }

    private static String[] readUidMap() {
        try (FileInputStream in = new FileInputStream("/proc/self/uid_map")) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+");
        } catch (IOException e) {
            return null;
        }
    }
}
