package dev.mountkeeper.mount;

import dev.mountkeeper.linux.MountSyscalls;

/** Mount propagation, as the spec options name it. */
public enum Propagation {
    PRIVATE("private", MountSyscalls.MS_PRIVATE),
    SLAVE("slave", MountSyscalls.MS_SLAVE),
    SHARED("shared", MountSyscalls.MS_SHARED);

    final String option;
    final long msFlag;

    Propagation(String option, long msFlag) {
        this.option = option;
        this.msFlag = msFlag;
    }

    public String option() { return option; }
}
