package dev.mountkeeper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The project's version, as the build wrote it into {@code version.properties} (Maven filters
 * {@code ${project.version}} into it): one source for every {@code --version} and the daemon's
 * {@code /v1/version}.
 */
public final class ProjectVersion {
    private static final String VERSION = load();

    private ProjectVersion() {}

    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = ProjectVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) throw new IllegalStateException("version.properties is missing from the build");
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
