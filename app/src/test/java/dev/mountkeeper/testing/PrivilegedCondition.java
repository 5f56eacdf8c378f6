package dev.mountkeeper.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Enables {@link Privileged} tests where they can run safely; see there. */
public final class PrivilegedCondition implements ExecutionCondition, BeforeEachCallback {
    /** Null when privileged tests can run here, else why not. */
    public static String whyNot() {
        try {
            String status = Files.readString(Path.of("/proc/self/status"));
            if (!status.lines().anyMatch(l -> l.matches("Uid:\\s+0\\s.*"))) return "not running as root";
            // The JVM that launched us (Maven) is in the machine's namespace; ours must differ from it.
            String mine = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
            long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
            String theirs = Files.readSymbolicLink(Path.of("/proc/" + parent + "/ns/mnt")).toString();
            if (mine.equals(theirs)) {
                return "the test JVM shares its parent's mount namespace; run it through src/test/sh/private-mount-ns/bin/java";
            }
            return null;
        } catch (IOException e) {
            return "cannot inspect privileges: " + e;
        }
    }

    static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = whyNot();
        if (why == null || ci()) return ConditionEvaluationResult.enabled("privileged");
        return ConditionEvaluationResult.disabled("privileged test skipped: " + why);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        String why = whyNot();
        if (why != null) throw new AssertionError("CI=true and a privileged test cannot run: " + why);
    }
}
