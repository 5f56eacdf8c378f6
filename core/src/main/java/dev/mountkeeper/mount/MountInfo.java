package dev.mountkeeper.mount;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of /proc/thread-self/mountinfo with all its fields, as findmnt reads it (the
 * {@link MountTable} keeps only what mounting needs). {@code id} and {@code parent} are the
 * kernel's reusable 32-bit ids; {@code optionalFields} is e.g. "shared:1 master:2".
 */
public record MountInfo(int id, int parent, String majorMinor, String root, String mountPoint, String vfsOptions,
                        String optionalFields, String fsType, String source, String fsOptions) {
    public static List<MountInfo> read() throws IOException {
        return read(Path.of("/proc/thread-self/mountinfo"));
    }

    static List<MountInfo> read(Path file) throws IOException {
        List<MountInfo> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) out.add(parse(line));
        }
        return out;
    }

    /** {@code ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS}. */
    public static MountInfo parse(String line) {
        String[] f = line.split(" ");
        int dash = -1;
        for (int i = 6; i < f.length && dash < 0; i++) if (f[i].equals("-")) dash = i;
        if (f.length < 10 || dash < 0 || dash + 3 > f.length) throw new IllegalArgumentException("malformed mountinfo line: " + line);
        String optional = String.join(" ", java.util.Arrays.asList(f).subList(6, dash));
        return new MountInfo(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2], MountinfoTable.unescape(f[3]),
                MountinfoTable.unescape(f[4]), f[5], optional, MountinfoTable.unescape(f[dash + 1]),
                MountinfoTable.unescape(f[dash + 2]), dash + 3 < f.length ? MountinfoTable.unescape(f[dash + 3]) : "");
    }

    /** findmnt's PROPAGATION: "shared" or "private", then ",slave" and ",unbindable" as they apply. */
    public String propagation() {
        boolean shared = false, slave = false, unbindable = false;
        for (String o : optionalFields.split(" ")) {
            shared |= o.startsWith("shared:");
            slave |= o.startsWith("master:");
            unbindable |= o.equals("unbindable");
        }
        return (shared ? "shared" : "private") + (slave ? ",slave" : "") + (unbindable ? ",unbindable" : "");
    }

    /**
     * findmnt's OPTIONS: the mount's own options, then the superblock's less its leading "rw" or
     * "ro" (the mount's says whether it can be written, as libmount merges them).
     */
    public String options() {
        String fs = fsOptions.replaceFirst("^r[wo](,|$)", "");
        return fs.isEmpty() ? vfsOptions : vfsOptions + "," + fs;
    }
}
