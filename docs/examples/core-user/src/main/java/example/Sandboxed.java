package example;

import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;

/**
 * Runs a command in a sandbox with the host's /usr read-only and its own /proc. As root:
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/classes:PATH/TO/mountkeeper-core.jar example.Sandboxed CMD...}
 */
public class Sandboxed {
    public static void main(String[] args) throws Exception {
        Sandbox sandbox = Sandbox.builder()
                .roBind("/usr", "/usr").symlink("usr/lib", "/lib").symlink("usr/lib64", "/lib64").symlink("usr/bin", "/bin")
                .proc("/proc").setEnv("PATH", "/usr/bin:/bin")
                .command(args)
                .build();
        RunResult r = new SandboxRunner().run(sandbox);
        System.exit(r.shellStatus());
    }
}
