package dev.mountkeeper.mount;

import java.time.Duration;

/**
 * What to do when an unmount reports EBUSY: retry {@code attempts} times in all, sleeping
 * {@code firstBackoff} and doubling; then either fail naming the holders, or, only when
 * {@code lazyWhenBusy}, detach lazily (MNT_DETACH) and say so.
 */
public record UnmountPolicy(int attempts, Duration firstBackoff, boolean lazyWhenBusy) {
    public static final UnmountPolicy DEFAULT = new UnmountPolicy(8, Duration.ofMillis(2), false);

    public UnmountPolicy {
        if (attempts < 1) throw new IllegalArgumentException("attempts must be at least 1");
    }

    public UnmountPolicy withLazy(boolean lazy) {
        return new UnmountPolicy(attempts, firstBackoff, lazy);
    }
}
