package dev.mountkeeper.linux;

/**
 * The fields of struct statx that mountkeeper reads. {@code mountId} is the 64-bit unique id when
 * {@code mask} has STATX_MNT_ID_UNIQUE, the old reusable id when it has STATX_MNT_ID, else 0.
 */
public record Statx(int mask, int mode, long inode, int devMajor, int devMinor, long mountId, int uid, long size) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;

    public boolean isDirectory() { return (mode & S_IFMT) == S_IFDIR; }

    public boolean isSymlink() { return (mode & S_IFMT) == S_IFLNK; }

    public boolean isRegularFile() { return (mode & S_IFMT) == S_IFREG; }

    public boolean hasUniqueMountId() { return (mask & FileSyscalls.STATX_MNT_ID_UNIQUE) != 0; }

    /** Same file: same device and inode. */
    public boolean sameFile(Statx other) {
        return inode == other.inode && devMajor == other.devMajor && devMinor == other.devMinor;
    }

    public String typeName() {
        return switch (mode & S_IFMT) {
            case S_IFDIR -> "directory";
            case S_IFREG -> "regular file";
            case S_IFLNK -> "symbolic link";
            case 0020000 -> "character device";
            case 0060000 -> "block device";
            case 0010000 -> "fifo";
            case 0140000 -> "socket";
            default -> "file of unknown type";
        };
    }
}
