package dev.mountkeeper.shared;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** JSON bodies for the daemon's API, and what the kernel shows. */
public final class Requests {
    private Requests() {}

    public static String acquire(String context, long holder, String... specs) {
        return "{\"context\": \"" + context + "\", \"holder\": {\"pid\": " + holder + "}, \"specs\": " + list(specs) + "}";
    }

    public static String release(String context, long holder, String... specs) {
        return "{\"context\": \"" + context + "\", \"holder\": {\"pid\": " + holder + "}, \"specs\": " + list(specs) + "}";
    }

    public static String releaseAll(String context, long holder) {
        return "{\"context\": \"" + context + "\", \"holder\": {\"pid\": " + holder + "}, \"all\": true}";
    }

    private static String list(String... specs) {
        return Arrays.stream(specs).map(s -> "\"" + s + "\"").collect(Collectors.joining(", ", "[", "]"));
    }

    /** Mount points at or below {@code dir}, from the kernel's table. */
    public static List<String> mountsUnder(Path dir) throws IOException {
        return MountTable.below(MountTable.of(KernelFeatures.detect()).read(), dir.toString()).stream()
                .map(MountEntry::mountPoint).sorted().toList();
    }

    public static long mountIdAt(Path p) throws IOException {
        return MountTable.of(KernelFeatures.detect()).read().stream().filter(e -> e.mountPoint().equals(p.toString()))
                .mapToLong(MountEntry::id).max().orElse(0);
    }

    public static void waitUntil(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        for (int i = 0; i < 1500 && !cond.getAsBoolean(); i++) Thread.sleep(10);
        if (!cond.getAsBoolean()) throw new AssertionError("timed out waiting for " + what);
    }

    public static List<String> unchecked(Path dir) {
        try {
            return mountsUnder(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
