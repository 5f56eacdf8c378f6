package dev.mountkeeper.mount;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;

/** The providers this process knows, by name, found once with ServiceLoader. Built-in spec types win. */
public final class MountProviders {
    private MountProviders() {}

    private static volatile Map<String, MountProvider> known;

    private static Map<String, MountProvider> known() {
        Map<String, MountProvider> k = known;
        if (k == null) {
            Map<String, MountProvider> m = new LinkedHashMap<>();
            for (MountProvider.Catalog c : ServiceLoader.load(MountProvider.Catalog.class)) {
                for (MountProvider p : c.providers()) add(m, p);
            }
            for (MountProvider p : ServiceLoader.load(MountProvider.class)) add(m, p);
            known = k = Map.copyOf(m);
        }
        return k;
    }

    private static void add(Map<String, MountProvider> m, MountProvider p) {
        if (p.name().matches("[a-z0-9][a-z0-9-]{0,63}") && !MountSpecs.TYPES.contains(p.name())) m.putIfAbsent(p.name(), p);
    }

    public static Optional<MountProvider> find(String name) {
        return Optional.ofNullable(known().get(name));
    }

    public static Set<String> names() {
        return known().keySet();
    }

    /** Forgets what was found (tests that add plugins). */
    public static void reload() {
        known = null;
    }
}
