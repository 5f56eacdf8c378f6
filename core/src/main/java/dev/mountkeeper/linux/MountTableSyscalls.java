package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * listmount(2) and statmount(2) (Linux 6.8): the kernel's mount table as data, with 64-bit unique
 * mount ids, instead of text in /proc/self/mountinfo.
 */
public final class MountTableSyscalls {
    private MountTableSyscalls() {}

    private static final long SYS_STATMOUNT = 457;
    private static final long SYS_LISTMOUNT = 458;
    /** The root of the caller's mount namespace, for listmount. */
    public static final long LSMT_ROOT = 0xffffffffffffffffL;
    private static final int MNT_ID_REQ_SIZE_VER0 = 24;

    public static final long STATMOUNT_SB_BASIC = 0x1;
    public static final long STATMOUNT_MNT_BASIC = 0x2;
    public static final long STATMOUNT_MNT_ROOT = 0x8;
    public static final long STATMOUNT_MNT_POINT = 0x10;
    public static final long STATMOUNT_FS_TYPE = 0x20;
    public static final long STATMOUNT_SB_SOURCE = 0x200;

    /** What statmount told about one mount; strings are null where the kernel did not provide them. */
    public record StatMount(long mask, long id, long parentId, int oldId, int oldParentId, int devMajor,
                            int devMinor, long attributes, long propagation, long peerGroup, long master,
                            String fsType, String root, String mountPoint, String source) {}

    /**
     * {@code ssize_t listmount(struct mnt_id_req *req, u64 *mnt_ids, size_t nr_mnt_ids, unsigned int flags)}:
     * the ids of the mounts below {@code mountId}, continuing after {@code lastId} (0 to start).
     */
    public static long[] listmount(long mountId, long lastId, int max) throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment req = a.allocate(MNT_ID_REQ_SIZE_VER0, 8);
            req.set(JAVA_INT, 0, MNT_ID_REQ_SIZE_VER0);
            req.set(JAVA_LONG, 8, mountId);
            req.set(JAVA_LONG, 16, lastId);
            MemorySegment ids = a.allocate(JAVA_LONG, max);
            long n = Calls.check(Native.syscall(cs, SYS_LISTMOUNT, req.address(), ids.address(), max, 0), cs,
                    "listmount", () -> "{mnt_id=0x" + Long.toHexString(mountId) + ", param=" + lastId + "}, ids, "
                            + max + ", 0");
            return ids.asSlice(0, n * 8).toArray(JAVA_LONG);
        });
    }

    /** {@code int statmount(struct mnt_id_req *req, struct statmount *buf, size_t bufsize, unsigned int flags)}. */
    public static StatMount statmount(long mountId, long mask) throws ErrnoException {
        int size = 8192;
        while (true) {
            try {
                return statmount(mountId, mask, size);
            } catch (ErrnoException e) {
                // EOVERFLOW: the strings did not fit; mount points can be as long as PATH_MAX, several of them.
                if (e.errno().number() != 75 || size >= 1 << 20) throw e;
                size *= 4;
            }
        }
    }

    private static StatMount statmount(long mountId, long mask, int size) throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment req = a.allocate(MNT_ID_REQ_SIZE_VER0, 8);
            req.set(JAVA_INT, 0, MNT_ID_REQ_SIZE_VER0);
            req.set(JAVA_LONG, 8, mountId);
            req.set(JAVA_LONG, 16, mask);
            MemorySegment buf = a.allocate(size, 8);
            Calls.check(Native.syscall(cs, SYS_STATMOUNT, req.address(), buf.address(), size, 0), cs,
                    "statmount", () -> "{mnt_id=" + mountId + ", param=0x" + Long.toHexString(mask) + "}, buf, "
                            + size + ", 0");
            long got = buf.get(JAVA_LONG, 8);
            // The fixed part is 512 bytes (struct statmount with its spare words); strings follow it.
            MemorySegment strings = buf.asSlice(512);
            return new StatMount(got, buf.get(JAVA_LONG, 40), buf.get(JAVA_LONG, 48), buf.get(JAVA_INT, 56),
                    buf.get(JAVA_INT, 60), buf.get(JAVA_INT, 16), buf.get(JAVA_INT, 20), buf.get(JAVA_LONG, 64),
                    buf.get(JAVA_LONG, 72), buf.get(JAVA_LONG, 80), buf.get(JAVA_LONG, 88),
                    string(got, STATMOUNT_FS_TYPE, strings, buf.get(JAVA_INT, 36)),
                    string(got, STATMOUNT_MNT_ROOT, strings, buf.get(JAVA_INT, 104)),
                    string(got, STATMOUNT_MNT_POINT, strings, buf.get(JAVA_INT, 108)),
                    string(got, STATMOUNT_SB_SOURCE, strings, buf.get(JAVA_INT, 124)));
        });
    }

    private static String string(long mask, long bit, MemorySegment strings, int offset) {
        return (mask & bit) == 0 ? null : strings.getString(offset, StandardCharsets.UTF_8);
    }
}
