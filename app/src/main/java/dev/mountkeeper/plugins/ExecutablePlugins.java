package dev.mountkeeper.plugins;

import dev.mountkeeper.mount.MountProvider;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Executable plugins: every executable file in a plugin directory is a provider named after the
 * file. The directories are {@code $MOUNTKEEPER_PLUGIN_PATH} (colon-separated, first wins), then
 * /usr/local/lib/mountkeeper/plugins and /usr/lib/mountkeeper/plugins.
 */
public final class ExecutablePlugins implements MountProvider.Catalog {
    static List<Path> directories() {
        List<Path> dirs = new ArrayList<>();
        String env = System.getProperty("mountkeeper.plugin.path", System.getenv("MOUNTKEEPER_PLUGIN_PATH"));
        if (env != null) for (String d : env.split(":")) if (!d.isEmpty()) dirs.add(Path.of(d));
        dirs.add(Path.of("/usr/local/lib/mountkeeper/plugins"));
        dirs.add(Path.of("/usr/lib/mountkeeper/plugins"));
        return dirs;
    }

    @Override
    public List<MountProvider> providers() {
        List<MountProvider> out = new ArrayList<>();
        for (Path d : directories()) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
                for (Path f : files) {
                    if (Files.isRegularFile(f) && Files.isExecutable(f)) out.add(new ExecutableProvider(f.getFileName().toString(), f));
                }
            } catch (IOException missing) {
                // no such directory: no plugins there
            }
        }
        return out; // in directory order: of two plugins with one name, the first directory's wins
    }
}
