package dev.mountkeeper.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Unprivileged;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (String c : new String[] {"mount", "umount", "mounts"}) {
            Run r = run(c, "--help");
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("Usage: mountkeeper " + c);
        }
        assertThat(run().code()).isEqualTo(2);
        assertThat(run().err()).contains("Missing required subcommand");
    }

    /** Options read as bubblewrap's do: the parameter once, after a space; whole paragraphs. */
    @Test
    void usageTextReadsLikeBubblewrapsAndParsingStillTakesEquals() {
        String help = run("run", "--help").out();
        assertThat(help).contains("Usage: mountkeeper run [OPTIONS] COMMAND...")
                .containsPattern("\\n {6}--bind SRC DEST +Bind SRC").containsPattern("\\n {6}--proc DEST +A fresh procfs")
                .doesNotContain("SRC DEST SRC DEST").doesNotContain("--bind=");
        assertThat(help).contains("in a root assembled\nfrom the options"); // a paragraph, wrapped where the width says
        assertThat(HelpFormat.paragraphs(new String[] {"one", "two.", "", "three", " - four"}))
                .containsExactly("one two.", "", "three", "- four");
        Run r = run("umount", "--root=/nonexistent/root", "x");
        assertThat(r.err()).contains("Failed to open root \"/nonexistent/root\"");
    }

    /** A bad value is one line naming it and the reason, then where help is: no reflection, no usage dump. */
    @Test
    void aBadValueIsOneLineAndAPointerToHelp() {
        String[][] cases = {{"run", "--mount", "bogus::/x", "--", "true"}, {"run", "--size", "0", "--tmpfs", "/t", "--", "true"},
                {"run", "--file", "987654", "/x", "--", "true"}, {"run", "--tmpfs"}};
        String[] says = {"Invalid mount spec \"bogus::/x\": unknown type \"bogus\"", "--size 0 is not positive",
                "--file 987654: cannot read the descriptor", "Missing required parameter for option '--tmpfs' (DEST)"};
        for (int i = 0; i < cases.length; i++) {
            Run r = run(cases[i]);
            assertThat(r.code()).as(String.join(" ", cases[i])).isEqualTo(2);
            assertThat(r.err().lines().toList()).as(String.join(" ", cases[i])).hasSize(2);
            assertThat(r.err()).startsWith("mountkeeper run: ").contains(says[i])
                    .endsWith("Try 'mountkeeper run --help' for more information." + System.lineSeparator())
                    .doesNotContain("Could not invoke", "Exception", "Usage:");
        }
    }

    @Test
    void usageErrorsExit2() {
        assertThat(run("mount", "proc::/proc").code()).isEqualTo(2);
        assertThat(run("umount", "--root").code()).isEqualTo(2);
        assertThat(run("nosuch").code()).isEqualTo(2);
    }

    @Test
    void aRootThatDoesNotExistIsBadInput() {
        Run r = run("mount", "--root", "/nonexistent/root", "proc::/proc");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Failed to open root \"/nonexistent/root\": openat2(AT_FDCWD, \"/nonexistent/root\"")
                .contains("ENOENT (No such file or directory)");
    }

    @Test
    @Privileged
    void aSandboxRootThatDoesNotExistIsNamedAsTheRoot() {
        Run r = run("run", "--root", "/nonexistent/root", "--", "/bin/true");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("mountkeeper run: Failed to open the sandbox root \"/nonexistent/root\": openat2(")
                .contains("ENOENT (No such file or directory)").doesNotContain("bind source");
    }

    /** Not root, mount and umount keep the syscall chain and say what to do. */
    @Test
    @Privileged
    void mountingAsAnotherUserSaysWhatToDo(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Process p = new ProcessBuilder(Unprivileged.cli(tmp, "mount", "--root", root.toString(), "tmpfs::/x"))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isEqualTo(1);
        assertThat(out.lines().toList()).as(out).containsExactly(
                "mountkeeper mount: Failed to mount \"tmpfs\" on \"" + root + "/x\": fsopen(\"tmpfs\", FSOPEN_CLOEXEC): EPERM (Operation not permitted)",
                "mountkeeper mount: hint: mounting needs root (or CAP_SYS_ADMIN): run it with sudo; as any other user,"
                        + " 'mountkeeper run' mounts inside a rootless sandbox");
        assertThat(Kernel.mountsBelow(root.toString())).isEmpty();
        assertThat(root.resolve("x")).doesNotExist(); // nothing half-made
    }

    @Test
    @Privileged
    void aRelativeDestIsNamedInsideItsRoot(@TempDir Path tmp) {
        Run r = run("umount", "--root", tmp.toString(), "missing");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("mountkeeper umount: Failed to unmount \"" + tmp + "/missing\": ");
    }

    @Test
    @Privileged
    void mountListUnmount(@TempDir Path tmp) {
        Run m = run("mount", "--root", tmp.toString(), "proc::/proc", "tmpfs::/tmp:size=1m", "symlink:usr/lib:/lib");
        assertThat(m.code()).as(m.err()).isZero();
        assertThat(m.out()).contains("proc::/proc -> " + tmp + "/proc (mount ");
        Run list = run("mounts", tmp.toString(), "--json");
        assertThat(list.out()).contains("\"target\": \"" + tmp + "/proc\"").contains("\"fstype\": \"tmpfs\"");
        assertThat(run("mounts", tmp.toString()).out()).contains("rw,nosuid,nodev,noexec");
        Run u = run("umount", "--root", tmp.toString(), "/tmp", "/proc");
        assertThat(u.code()).as(u.err()).isZero();
        assertThat(Kernel.mountsBelow(tmp.toString())).isEmpty();
        Run again = run("umount", "--root", tmp.toString(), "/proc");
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("not a mount point");
    }
}
