package dev.mountkeeper.sandbox;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** The highest capability number this kernel knows, so that every one can be dropped. */
final class Capabilities {
    private Capabilities() {}

    static final int LAST = read();

    private static int read() {
        // Not Files.readString: it returned "4" for "40\n" here. A sysctl file answers EOF to any read
        // past offset 0, and readString starts with a short read when the size is 0.
        try (FileInputStream in = new FileInputStream("/proc/sys/kernel/cap_last_cap")) {
            return Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return 63; // the drop loop stops at the first number the kernel does not know (EINVAL)
        }
    }
}
