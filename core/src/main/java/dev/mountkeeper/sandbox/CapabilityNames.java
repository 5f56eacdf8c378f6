package dev.mountkeeper.sandbox;

import java.util.List;
import java.util.Locale;

/** Capability names as capabilities(7) spells them (CAP_KILL or cap_kill), by number. */
public final class CapabilityNames {
    private CapabilityNames() {}

    private static final List<String> NAMES = List.of("chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore");

    /** Every capability: what "ALL" means. */
    public static final long ALL = -1L;

    /** The bit of {@code name}, or ALL for "ALL"; refuses a name it does not know. */
    public static long mask(String option, String name) {
        if (name.equalsIgnoreCase("ALL")) return ALL;
        String n = name.toLowerCase(Locale.ROOT);
        int i = NAMES.indexOf(n.startsWith("cap_") ? n.substring(4) : n);
        if (i < 0) throw new IllegalArgumentException(option + " " + name + " is not a capability name (see capabilities(7))");
        return 1L << i;
    }
}
