package dev.mountkeeper.mount;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.MountTableSyscalls;
import java.util.HashMap;
import java.util.Map;

/** The 64-bit unique mount ids (Linux 6.8, listmount/statmount) of the reusable 32-bit ones mountinfo shows. */
public final class UniqueMountIds {
    private UniqueMountIds() {}

    /** Reusable id to unique id, for this thread's mount namespace; empty where listmount is absent or forced off. */
    public static Map<Integer, Long> read(KernelFeatures features) throws ErrnoException {
        Map<Integer, Long> out = new HashMap<>();
        if (!features.listmount()) return out;
        long last = 0;
        while (true) {
            long[] ids = MountTableSyscalls.listmount(MountTableSyscalls.LSMT_ROOT, last, 512);
            for (long id : ids) {
                try {
                    MountTableSyscalls.StatMount s = MountTableSyscalls.statmount(id, MountTableSyscalls.STATMOUNT_MNT_BASIC);
                    out.put(s.oldId(), s.id());
                } catch (ErrnoException e) {
                    if (!e.is(Errno.ENOENT)) throw e; // unmounted since listmount saw it
                }
            }
            if (ids.length < 512) return out;
            last = ids[ids.length - 1];
        }
    }
}
