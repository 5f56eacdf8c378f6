package dev.mountkeeper.mount;

/**
 * One line of the kernel's mount table. {@code id} and {@code parentId} are unique 64-bit ids when
 * the table came from listmount with unique ids, else the reusable ids of mountinfo.
 * {@code mountPoint} is as seen from the reading thread's root.
 */
public record MountEntry(long id, long parentId, String mountPoint, String root, String fsType, String source,
                         boolean readOnly, String propagation) {}
