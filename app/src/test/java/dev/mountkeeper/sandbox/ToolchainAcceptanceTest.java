package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Sandboxes.Output;
import dev.mountkeeper.testing.Tools;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The problem mountkeeper exists for, with the real tools: in a root of read-only /usr and /etc,
 * the lib and bin links, /dev and a tmpfs /tmp, compilers fail without /proc and work with it.
 */
@Privileged
class ToolchainAcceptanceTest {
    @TempDir Path tmp;
    final SandboxRunner runner = new SandboxRunner();

    private Output run(boolean proc, Sandbox.Builder b, String script) throws Exception {
        Sandbox.Builder s = proc ? b.proc("/proc") : b;
        return Sandboxes.run(runner, s.chdir("/tmp").command("sh", "-c", script), tmp);
    }

    private void bothWays(String tool, Sandbox.Builder with, Sandbox.Builder without, String script, String expected)
            throws Exception {
        Output withProc = run(true, with, script);
        Output withoutProc = run(false, without, script);
        Figures.report("acceptance " + tool + ": with /proc exit " + withProc.result().shellStatus() + ", without /proc exit "
                + withoutProc.result().shellStatus() + " (" + withoutProc.err().lines().findFirst().orElse("").strip() + ")");
        assertThat(withProc.result().exitCode()).as(withProc.err()).isZero();
        assertThat(withProc.out()).isEqualTo(expected);
        assertThat(withoutProc.result().exitCode()).as("without /proc: " + withoutProc.out()).isNotZero();
    }

    @Test
    void rustcCompilesAndRunsHelloWorldOnlyWithProc() throws Exception {
        String sysroot = Tools.output("rustc", "--print", "sysroot");
        if (sysroot == null) sysroot = Tools.output(System.getProperty("user.home") + "/.cargo/bin/rustc", "--print", "sysroot");
        if (sysroot == null) Tools.missing("rustc", "no rustup toolchain found through rustc --print sysroot");
        String s = sysroot;
        String script = "printf 'fn main() { println!(\"hello from rust\"); }' > hello.rs && /opt/rust/bin/rustc hello.rs -o hello && ./hello";
        bothWays("rustc", Sandboxes.hostTools().roBind(s, "/opt/rust"), Sandboxes.hostTools().roBind(s, "/opt/rust"),
                script, "hello from rust\n");
    }

    @Test
    void javacCompilesAndRunsAClassOnlyWithProc() throws Exception {
        Path javac = Path.of(System.getProperty("java.home"), "bin", "javac");
        if (!javac.toFile().canExecute()) Tools.missing("javac", javac + " is not executable");
        String bin = javac.getParent().toString();
        String script = "printf 'class Hello { public static void main(String[] a) { System.out.println(\"hello from java\"); } }' > Hello.java"
                + " && " + bin + "/javac Hello.java && " + bin + "/java -cp . Hello";
        // The JDK lives under /usr/lib/jvm, inside the read-only /usr.
        assertThat(javac.toString()).startsWith("/usr/");
        bothWays("javac", Sandboxes.hostTools(), Sandboxes.hostTools(), script, "hello from java\n");
    }

    @Test
    void goBuildWorksWithProc() throws Exception {
        Path go = Tools.require("go (Debian's golang-go)", List.of("/usr/bin/go", "/usr/lib/go/bin/go"));
        String script = "printf 'package main\\nimport \"fmt\"\\nfunc main() { fmt.Println(\"hello from go\") }\\n' > hello.go"
                + " && GOCACHE=/tmp/gocache GOPATH=/tmp/gopath " + go + " build -o hello hello.go && ./hello";
        Output o = run(true, Sandboxes.hostTools(), script);
        Output without = run(false, Sandboxes.hostTools(), script);
        Figures.report("acceptance go build: with /proc exit " + o.result().shellStatus() + ", without /proc exit "
                + without.result().shellStatus() + " (" + without.err().lines().findFirst().orElse("").strip() + ")");
        assertThat(o.result().exitCode()).as(o.err()).isZero();
        assertThat(o.out()).isEqualTo("hello from go\n");
    }
}
