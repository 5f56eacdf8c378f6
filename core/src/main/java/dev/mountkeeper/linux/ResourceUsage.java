package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * {@code struct rusage} as wait4(2) fills it for one child (x86_64 and aarch64 layout: two
 * timevals, then fourteen longs).
 */
public record ResourceUsage(Duration userTime, Duration systemTime, long maxRssKiB, long minorFaults,
                            long majorFaults, long swaps, long blocksIn, long blocksOut, long messagesSent,
                            long messagesReceived, long signals, long voluntarySwitches,
                            long involuntarySwitches) {
    static final long SIZE = 144;

    static ResourceUsage of(MemorySegment ru) {
        return new ResourceUsage(timeval(ru, 0), timeval(ru, 16), ru.get(JAVA_LONG, 32), ru.get(JAVA_LONG, 64),
                ru.get(JAVA_LONG, 72), ru.get(JAVA_LONG, 80), ru.get(JAVA_LONG, 88), ru.get(JAVA_LONG, 96),
                ru.get(JAVA_LONG, 104), ru.get(JAVA_LONG, 112), ru.get(JAVA_LONG, 120), ru.get(JAVA_LONG, 128),
                ru.get(JAVA_LONG, 136));
    }

    private static Duration timeval(MemorySegment ru, long offset) {
        return Duration.ofSeconds(ru.get(JAVA_LONG, offset)).plusNanos(ru.get(JAVA_LONG, offset + 8) * 1000);
    }
}
