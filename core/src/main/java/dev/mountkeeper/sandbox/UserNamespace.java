package dev.mountkeeper.sandbox;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Whether we run in a user namespace other than the initial one (a rootless run). */
final class UserNamespace {
    private UserNamespace() {}

    /** The uid_map line of this process: "INSIDE OUTSIDE COUNT", or null if unreadable. */
    private static final String[] UID_MAP = readUidMap();

    /** The initial user namespace maps every id onto itself: "0 0 4294967295". */
    private static final boolean NESTED = UID_MAP != null && !String.join(" ", UID_MAP).equals("0 0 4294967295");

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
