package dev.mountkeeper.shared;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The {@code once} keys of sweeps done, kept per user and per what was swept (a context or a path),
 * so that one user can neither use up the key another user's build will sweep with nor push it
 * out: each user keeps their latest {@value #PER_USER}. Persisted in the state as one string per
 * key: uid, scope and key joined by NUL, which neither a context nor a key may contain.
 */
final class SweepKeys {
    static final int PER_USER = 256;

    private final Map<Integer, LinkedHashSet<String>> byUser = new LinkedHashMap<>();

    static String scope(String context, String under) {
        return context != null ? "context\0" + context : "under\0" + under;
    }

    boolean done(int uid, String scope, String key) {
        LinkedHashSet<String> keys = byUser.get(uid);
        return keys != null && keys.contains(scope + "\0" + key);
    }

    void add(int uid, String scope, String key) {
        LinkedHashSet<String> keys = byUser.computeIfAbsent(uid, u -> new LinkedHashSet<>());
        keys.add(scope + "\0" + key);
        if (keys.size() > PER_USER) keys.removeFirst();
    }

    /** The keys as the state holds them. */
    List<String> persisted() {
        List<String> out = new ArrayList<>();
        byUser.forEach((uid, keys) -> keys.forEach(k -> out.add(uid + "\0" + k)));
        return out;
    }

    /** Restores what {@link #persisted()} wrote; keys of older daemons (global ones) match no request and are dropped. */
    void restore(List<String> persisted) {
        for (String s : persisted) {
            int nul = s.indexOf('\0');
            if (nul <= 0 || !s.substring(0, nul).matches("[0-9]+")) continue;
            byUser.computeIfAbsent(Integer.parseInt(s.substring(0, nul)), u -> new LinkedHashSet<>()).add(s.substring(nul + 1));
        }
    }
}
