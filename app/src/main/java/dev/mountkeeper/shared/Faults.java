package dev.mountkeeper.shared;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.ProcessSyscalls;

/**
 * Fault injection for the crash tests: with {@code MOUNTKEEPER_FAULT_KILL_AT=POINT} the daemon
 * sends itself SIGKILL the first time it reaches POINT ("mounting": a mount made but not yet
 * recorded; "unmounting": an unmount recorded but not yet made; "acquired": recorded, not yet answered;
 * "torn-after-mount": half of the state written after a mount, the way a crash mid-write leaves it).
 */
public record Faults(String point) {
    public static final Faults NONE = new Faults("");

    public static Faults fromEnvironment() {
        String p = System.getenv("MOUNTKEEPER_FAULT_KILL_AT");
        return p == null ? NONE : new Faults(p);
    }

    boolean is(String here) {
        return point.equals(here);
    }

    void at(String here) {
        if (point.isEmpty() || !point.equals(here)) return;
        System.err.println("mountkeeper daemon: fault injection: SIGKILL at " + here);
        try {
            ProcessSyscalls.kill(Math.toIntExact(ProcessHandle.current().pid()), ProcessSyscalls.SIGKILL);
        } catch (ErrnoException e) {
            Runtime.getRuntime().halt(137);
        }
    }
}
