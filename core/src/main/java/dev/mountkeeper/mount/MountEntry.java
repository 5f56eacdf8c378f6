package dev.mountkeeper.mount;

import dev.mountkeeper.linux.MountSyscalls;

/**
 * One line of the kernel's mount table. {@code id} and {@code parentId} are unique 64-bit ids when
 * the table came from listmount with unique ids, else the reusable ids of mountinfo.
 * {@code mountPoint} is as seen from the reading thread's root; {@code attributes} holds the
 * MOUNT_ATTR_RDONLY, _NOSUID, _NODEV and _NOEXEC bits.
 */
public record MountEntry(long id, long parentId, String mountPoint, String root, String fsType, String source,
                         long attributes, String propagation) {
    public boolean readOnly() { return (attributes & MountSyscalls.MOUNT_ATTR_RDONLY) != 0; }

    public boolean nosuid() { return (attributes & MountSyscalls.MOUNT_ATTR_NOSUID) != 0; }

    public boolean nodev() { return (attributes & MountSyscalls.MOUNT_ATTR_NODEV) != 0; }

    public boolean noexec() { return (attributes & MountSyscalls.MOUNT_ATTR_NOEXEC) != 0; }

    /** The flags as mount(8) prints them, e.g. "ro,nosuid,nodev". */
    public String flags() {
        StringBuilder b = new StringBuilder(readOnly() ? "ro" : "rw");
        if (nosuid()) b.append(",nosuid");
        if (nodev()) b.append(",nodev");
        if (noexec()) b.append(",noexec");
        return b.toString();
    }
}
