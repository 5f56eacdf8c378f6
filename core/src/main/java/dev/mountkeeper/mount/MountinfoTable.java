package dev.mountkeeper.mount;

import dev.mountkeeper.linux.MountSyscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The mount table from /proc/thread-self/mountinfo: the fallback before Linux 6.8. thread-self,
 * not self: a sandbox thread has a mount namespace of its own, and /proc/self shows the main
 * thread's.
 */
final class MountinfoTable implements MountTable {
    private final Path file;

    MountinfoTable() {
        this(Path.of("/proc/thread-self/mountinfo"));
    }

    MountinfoTable(Path file) {
        this.file = file;
    }

    @Override
    public List<MountEntry> read() throws IOException {
        List<MountEntry> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) out.add(parse(line));
        }
        return out;
    }

    /** One line: {@code ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS}. */
    static MountEntry parse(String line) {
        String[] f = line.split(" ");
        int dash = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                dash = i;
                break;
            }
        }
        if (f.length < 10 || dash < 0 || dash + 3 > f.length) {
            throw new IllegalArgumentException("malformed mountinfo line: " + line);
        }
        String propagation = "private";
        for (int i = 6; i < dash; i++) {
            if (f[i].startsWith("shared:") || f[i].startsWith("master:") || f[i].equals("unbindable")) {
                propagation = f[i];
                break;
            }
        }
        long attributes = 0;
        for (String o : f[5].split(",")) {
            attributes |= switch (o) {
                case "ro" -> MountSyscalls.MOUNT_ATTR_RDONLY;
                case "nosuid" -> MountSyscalls.MOUNT_ATTR_NOSUID;
                case "nodev" -> MountSyscalls.MOUNT_ATTR_NODEV;
                case "noexec" -> MountSyscalls.MOUNT_ATTR_NOEXEC;
                default -> 0;
            };
        }
        return new MountEntry(Long.parseLong(f[0]), Long.parseLong(f[1]), unescape(f[4]), unescape(f[3]),
                unescape(f[dash + 1]), unescape(f[dash + 2]), attributes, propagation);
    }

    /** The kernel writes space, tab, newline and backslash as octal escapes (\040, \011, \012, \134). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[in.length];
        int n = 0;
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '\\' && i + 3 < in.length && isOctal(in[i + 1]) && isOctal(in[i + 2]) && isOctal(in[i + 3])) {
                out[n++] = (byte) (((in[i + 1] - '0') << 6) | ((in[i + 2] - '0') << 3) | (in[i + 3] - '0'));
                i += 3;
            } else {
                out[n++] = in[i];
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
