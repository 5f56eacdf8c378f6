package dev.mountkeeper.mount;

import java.util.ArrayList;
import java.util.List;

/** Validation and normalisation of the paths a spec names; pure functions, no filesystem access. */
public final class SpecPaths {
    private SpecPaths() {}

    static final int PATH_MAX = 4096;
    static final int NAME_MAX = 255;

    /** An absolute path, normalised: no empty or "." components, no trailing slash. ".." is refused. */
    public static String absolute(String what, String path) {
        check(what, path);
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException(what + " " + dev.mountkeeper.linux.Quote.string(path) + " is not an absolute path");
        }
        List<String> names = components(what, path);
        return names.isEmpty() ? "/" : "/" + String.join("/", names);
    }

    /** The components of an absolute, normalised path. */
    static List<String> components(String what, String path) {
        List<String> names = new ArrayList<>();
        for (String name : path.split("/")) {
            if (name.isEmpty() || name.equals(".")) continue;
            if (name.equals("..")) {
                throw new IllegalArgumentException(what + " " + dev.mountkeeper.linux.Quote.string(path) + " contains \"..\"");
            }
            if (name.length() > NAME_MAX) {
                throw new IllegalArgumentException(what + " has a component longer than " + NAME_MAX + " bytes");
            }
            names.add(name);
        }
        return names;
    }

    /** A symlink target: anything non-empty without NUL that fits PATH_MAX. */
    static String linkTarget(String what, String target) {
        check(what, target);
        return target;
    }

    private static void check(String what, String path) {
        if (path == null || path.isEmpty()) throw new IllegalArgumentException(what + " is empty");
        if (path.indexOf('\0') >= 0) throw new IllegalArgumentException(what + " contains a NUL byte");
        if (path.length() >= PATH_MAX) {
            throw new IllegalArgumentException(what + " is longer than " + (PATH_MAX - 1) + " bytes");
        }
    }

    public static String parent(String normalized) {
        int slash = normalized.lastIndexOf('/');
        return slash <= 0 ? "/" : normalized.substring(0, slash);
    }

    public static String name(String normalized) {
        return normalized.substring(normalized.lastIndexOf('/') + 1);
    }

    /** True when {@code path} is {@code ancestor} or lies below it (both absolute and normalised). */
    public static boolean isAtOrBelow(String path, String ancestor) {
        return ancestor.equals("/") || path.equals(ancestor) || path.startsWith(ancestor + "/");
    }
}
