package dev.mountkeeper.cli;

import static dev.mountkeeper.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.testing.Privileged;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mounts} against the real findmnt, run as a process in this JVM's mount namespace (it reads
 * its own /proc/self/mountinfo, which is this namespace's table).
 */
class MountsCommandTest {
    static String findmnt(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("findmnt"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** The same answer twice in a row, in case another process changed the table between the two reads. */
    static <T> void sameAsFindmnt(Supplier<T> ours, Supplier<T> theirs) {
        T a = null, b = null;
        for (int i = 0; i < 3; i++) {
            a = ours.get();
            b = theirs.get();
            if (a.equals(b)) break;
        }
        assertThat(a).isEqualTo(b);
    }

    static Supplier<String> findmntOut(String... args) {
        return () -> {
            try {
                return findmnt(args);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    static Supplier<String> oursOut(String... args) {
        return () -> {
            CliTest.Run r = run(args);
            assertThat(r.code()).as(r.err()).isZero();
            return r.out();
        };
    }

    /** Each filesystem as "target fstype id source", children flattened. */
    static Set<String> flat(String json) {
        Set<String> out = new HashSet<>();
        flatten(JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("filesystems"), out);
        return out;
    }

    private static void flatten(JsonArray fs, Set<String> out) {
        for (JsonElement e : fs) {
            JsonObject o = e.getAsJsonObject();
            out.add(o.get("target").getAsString() + " " + o.get("fstype").getAsString() + " " + o.get("id").getAsInt()
                    + " " + o.get("source").getAsString());
            if (o.has("children")) flatten(o.getAsJsonArray("children"), out);
        }
    }

    /** id of each filesystem to the id of the object it is nested in (0 at the top). */
    static Map<Integer, Integer> nesting(String json) {
        Map<Integer, Integer> out = new HashMap<>();
        nest(JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("filesystems"), 0, out);
        return out;
    }

    private static void nest(JsonArray fs, int parent, Map<Integer, Integer> out) {
        for (JsonElement e : fs) {
            JsonObject o = e.getAsJsonObject();
            out.put(o.get("id").getAsInt(), parent);
            if (o.has("children")) nest(o.getAsJsonArray("children"), o.get("id").getAsInt(), out);
        }
    }

    @Test
    void theJsonListsWhatFindmntLists() {
        Supplier<String> ours = oursOut("mounts", "-J", "-o", "TARGET,SOURCE,FSTYPE,ID");
        Supplier<String> theirs = findmntOut("-J", "-o", "TARGET,SOURCE,FSTYPE,ID");
        sameAsFindmnt(() -> flat(ours.get()), () -> flat(theirs.get()));
        assertThat(flat(ours.get())).isNotEmpty();
        assertThat(ours.get()).contains("\"id\": ").doesNotContain("\"id\": \"");
    }

    @Test
    void theTreeNestsAsFindmntDoes() {
        sameAsFindmnt(() -> nesting(oursOut("mounts", "-J", "--tree", "-o", "TARGET,ID").get()),
                () -> nesting(findmntOut("-J", "-o", "TARGET,ID").get()));
        sameAsFindmnt(() -> oursOut("mounts", "--tree").get().strip(), () -> findmntOut().get().strip());
        sameAsFindmnt(() -> oursOut("mounts", "--tree", "--ascii", "-o", "TARGET,FSTYPE,PROPAGATION").get().strip(),
                () -> findmntOut("--ascii", "-o", "TARGET,FSTYPE,PROPAGATION").get().strip());
    }

    @Test
    void nothingMatchingExits1AsFindmntDoes() throws Exception {
        CliTest.Run r = run("mounts", "/nonexistent");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(new ProcessBuilder("findmnt", "/nonexistent").start().waitFor()).isEqualTo(1);
        assertThat(run("mounts", "-t", "xyzfs").code()).isEqualTo(1); // not "nosuch...": "no" negates the list
    }

    @Test
    void badColumnsAreUsageErrors() {
        CliTest.Run r = run("mounts", "-o", "TARGET,BOGUS");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).startsWith("mountkeeper mounts: unknown column: BOGUS");
    }

    @Test
    @Privileged
    void columnsTypesRawAndIds(@TempDir Path tmp) throws Exception {
        Path spaced = Files.createDirectories(tmp.resolve("a b")), proc = Files.createDirectories(tmp.resolve("p"));
        CliTest.Run m = run("mount", "--root", tmp.toString(), "tmpfs::/a b", "proc::/p");
        assertThat(m.code()).as(m.err()).isZero();

        CliTest.Run types = run("mounts", tmp.toString(), "-n", "-t", "tmpfs", "-o", "TARGET,FSTYPE");
        assertThat(types.out().lines().toList()).containsExactly(spaced + " tmpfs");
        assertThat(run("mounts", tmp.toString(), "-n", "-t", "notmpfs", "-o", "target").out().strip()).isEqualTo(proc.toString());

        String raw = run("mounts", tmp.toString(), "-r", "-n", "-t", "tmpfs", "-o", "TARGET,SOURCE,PROPAGATION").out();
        assertThat(raw).isEqualTo(findmnt("-r", "-n", "-o", "TARGET,SOURCE,PROPAGATION", "-M", spaced.toString()));
        assertThat(raw).startsWith(spaced.toString().replace(" ", "\\x20") + " ");

        String ids = run("mounts", proc.toString(), "-J", "-o", "ID,PARENT,UNIQ-ID").out();
        JsonObject p = JsonParser.parseString(ids).getAsJsonObject().getAsJsonArray("filesystems").get(0).getAsJsonObject();
        JsonObject f = JsonParser.parseString(findmnt("-J", "-o", "ID,PARENT", "-M", proc.toString())).getAsJsonObject()
                .getAsJsonArray("filesystems").get(0).getAsJsonObject();
        assertThat(p.get("id")).isEqualTo(f.get("id"));
        assertThat(p.get("parent")).isEqualTo(f.get("parent"));
        assertThat(p.get("id").getAsLong()).isLessThan(1L << 31); // mountinfo's id, not the 64-bit one
        var st = FileSyscalls.statx(FileSyscalls.AT_FDCWD, proc.toString(), 0, FileSyscalls.STATX_MNT_ID_UNIQUE);
        // The 64-bit ids come from statmount: none when listmount is forced off (MOUNTKEEPER_FALLBACK=listmount).
        if (st.hasUniqueMountId() && KernelFeatures.current().listmount()) assertThat(p.get("uniq-id").getAsLong()).isEqualTo(st.mountId());
        else assertThat(p.get("uniq-id").isJsonNull()).isTrue();

        assertThat(run("umount", "--root", tmp.toString(), "/a b", "/p").code()).isZero();
    }
}
