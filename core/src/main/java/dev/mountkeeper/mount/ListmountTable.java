package dev.mountkeeper.mount;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.MountTableSyscalls;
import dev.mountkeeper.linux.MountTableSyscalls.StatMount;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The mount table from listmount(2) and statmount(2), Linux 6.8 and newer. */
final class ListmountTable implements MountTable {
    private static final long BASE = MountTableSyscalls.STATMOUNT_MNT_BASIC | MountTableSyscalls.STATMOUNT_SB_BASIC
            | MountTableSyscalls.STATMOUNT_MNT_POINT | MountTableSyscalls.STATMOUNT_MNT_ROOT
            | MountTableSyscalls.STATMOUNT_FS_TYPE;
    private static volatile boolean sourceSupported = true;
    private final boolean uniqueIds;

    ListmountTable(boolean uniqueIds) {
        this.uniqueIds = uniqueIds;
    }

    @Override
    public List<MountEntry> read() throws IOException {
        List<MountEntry> out = new ArrayList<>();
        long last = 0;
        while (true) {
            long[] ids = MountTableSyscalls.listmount(MountTableSyscalls.LSMT_ROOT, last, 512);
            for (long id : ids) {
                StatMount s = stat(id);
                // Mounts outside our root (the namespace's rootfs, when we are chrooted) have no mount point.
                if (s != null && s.mountPoint() != null) out.add(entry(s));
            }
            if (ids.length < 512) break;
            last = ids[ids.length - 1];
        }
        return out;
    }

    private StatMount stat(long id) throws ErrnoException {
        try {
            return MountTableSyscalls.statmount(id, sourceSupported ? BASE | MountTableSyscalls.STATMOUNT_SB_SOURCE : BASE);
        } catch (ErrnoException e) {
            if (e.is(Errno.ENOENT)) return null; // unmounted since listmount saw it
            if (e.is(Errno.EINVAL) && sourceSupported) { // kernels before 6.12 have no sb_source
                sourceSupported = false;
                return stat(id);
            }
            throw e;
        }
    }

    private MountEntry entry(StatMount s) {
        String propagation;
        if ((s.propagation() & MountSyscalls.MS_SHARED) != 0) propagation = "shared:" + s.peerGroup();
        else if ((s.propagation() & MountSyscalls.MS_SLAVE) != 0) propagation = "master:" + s.master();
        else if ((s.propagation() & MountSyscalls.MS_UNBINDABLE) != 0) propagation = "unbindable";
        else propagation = "private";
        long flags = MountSyscalls.MOUNT_ATTR_RDONLY | MountSyscalls.MOUNT_ATTR_NOSUID | MountSyscalls.MOUNT_ATTR_NODEV
                | MountSyscalls.MOUNT_ATTR_NOEXEC;
        return new MountEntry(uniqueIds ? s.id() : s.oldId(), uniqueIds ? s.parentId() : s.oldParentId(),
                s.mountPoint(), s.root(), s.fsType(), s.source() == null ? "" : s.source(), s.attributes() & flags,
                propagation);
    }
}
