package dev.mountkeeper.linux;

/** Linux signal names (x86_64 and aarch64 numbering), as kill -l prints them without "SIG". */
public final class Signals {
    private Signals() {}

    private static final String[] NAMES = {null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
            "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
            "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};

    /** "KILL" for 9; "RTMIN+N" for real-time signals. */
    public static String name(int signal) {
        if (signal > 0 && signal < NAMES.length) return NAMES[signal];
        if (signal >= 34 && signal <= 64) return "RTMIN+" + (signal - 34);
        return Integer.toString(signal);
    }
}
