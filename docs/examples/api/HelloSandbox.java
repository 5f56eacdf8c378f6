import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;
import java.time.Duration;

/**
 * Compiles and runs a C program in a sandbox: the host's compiler read-only, a fresh /proc, /dev
 * and /tmp, nothing else of the host. Run it as root with the core's jar (it needs nothing else):
 *
 * <pre>
 * ./dev build
 * java --enable-native-access=ALL-UNNAMED -cp core/target/mountkeeper-core.jar docs/examples/api/HelloSandbox.java
 * </pre>
 */
public class HelloSandbox {
    public static void main(String[] args) throws Exception {
        Sandbox sandbox = Sandbox.builder()
                .roBind("/usr", "/usr").symlink("usr/lib", "/lib").symlink("usr/lib64", "/lib64").symlink("usr/bin", "/bin")
                .roBind("/etc/alternatives", "/etc/alternatives") // Debian's cc is /usr/bin/cc -> /etc/alternatives/cc
                .proc("/proc").dev("/dev").tmpfs("/tmp")
                .file("/tmp/hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello from a sandbox\"); return 0; }\n")
                .clearEnv().setEnv("PATH", "/usr/bin:/bin").chdir("/tmp").timeout(Duration.ofMinutes(5))
                .command("sh", "-c", "cc -o hello hello.c && ./hello")
                .build();                                      // immutable: a list of typed setup steps
        RunResult r = new SandboxRunner().run(sandbox);       // or start(sandbox), then cancel() or waitFor()
        System.out.println("exit " + r.shellStatus() + (r.timedOut() ? ", timed out" : "")
                + " in " + r.wallTime().toMillis() + " ms");
        System.exit(r.shellStatus());
    }
}
