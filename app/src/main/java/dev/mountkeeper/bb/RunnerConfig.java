package dev.mountkeeper.bb;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.bb.proto.config.ApplicationConfiguration;
import dev.mountkeeper.bb.proto.config.InputMountOptions;
import dev.mountkeeper.bb.proto.config.ServerConfiguration;
import dev.mountkeeper.mount.InvalidSpecException;
import dev.mountkeeper.mount.MountOptions;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Propagation;
import dev.mountkeeper.mount.SpecPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The runner's configuration: Buildbarn's bb_runner ApplicationConfiguration, evaluated as Jsonnet
 * and parsed with protobuf's JSON rules, then checked. What the runner cannot honour is refused
 * here, by name, before anything starts.
 *
 * @param mounts the input root's mounts, destinations inside the input root, in order
 */
public record RunnerConfig(ApplicationConfiguration proto, List<MountSpec> mounts) {
    /** Loads {@code file} ("-" for standard input), with std.extVar bound to {@code env}. */
    public static RunnerConfig load(String file, Map<String, String> env, InputStream stdin) throws ConfigException {
        String name, source = null;
        Path dir, path = null;
        try {
            if (file.equals("-")) {
                name = "standard input";
                source = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
                dir = Path.of("").toAbsolutePath();
            } else {
                path = Path.of(file).toAbsolutePath();
                name = "\"" + file + "\"";
                if (!Files.isReadable(path)) throw new IOException("not a readable file");
                dir = path.getParent();
            }
        } catch (IOException e) {
            throw new ConfigException("Failed to read configuration \"" + file + "\": " + e.getMessage(), e);
        }
        return parse(name, Jsonnet.evaluate(name, path, source, dir, env));
    }

    /** Parses the JSON of a configuration (camelCase or snake_case; an unknown field is an error). */
    public static RunnerConfig parse(String name, String json) throws ConfigException {
        ApplicationConfiguration.Builder b = ApplicationConfiguration.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new ConfigException("Configuration " + name + " is invalid: " + e.getMessage(), e);
        }
        ApplicationConfiguration c = b.build();
        try {
            check(c);
            return new RunnerConfig(c, mounts(c));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("Configuration " + name + " is invalid: " + e.getMessage(), e);
        }
    }

    private static void check(ApplicationConfiguration c) {
        if (c.getBuildDirectoryPath().isEmpty()) throw new IllegalArgumentException("build_directory_path is not set");
        SpecPaths.absolute("build_directory_path", c.getBuildDirectoryPath());
        if (c.getGrpcServersCount() == 0) throw new IllegalArgumentException("grpc_servers is empty: the runner would not listen");
        for (ServerConfiguration s : c.getGrpcServersList()) {
            if (s.getListenAddressesCount() + s.getListenPathsCount() == 0) {
                throw new IllegalArgumentException("a grpc_servers entry has neither listen_addresses nor listen_paths");
            }
            Authentication.check("grpc_servers.authentication_policy", s.getAuthenticationPolicy());
            if (s.hasTls() || s.hasAlts()) throw unsupported("grpc_servers.tls and alts");
            if (s.getRelaysCount() > 0) throw unsupported("grpc_servers.relays");
        }
        if (c.hasTemporaryDirectoryInstaller()) throw unsupported("temporary_directory_installer");
        if (c.hasRunCommandsAs()) throw unsupported("run_commands_as");
        if (c.getGlobal().getSetResourceLimitsCount() > 0) throw unsupported("global.set_resource_limits");
        // apple_xcode_developer_directories: ignored on Linux, as bb_runner ignores it off macOS.
        for (String p : c.getSymlinkTemporaryDirectoriesList()) SpecPaths.absolute("symlink_temporary_directories", p);
        for (String p : c.getCleanTemporaryDirectoriesList()) SpecPaths.absolute("clean_temporary_directories", p);
        if (c.getRunCommandCleanerCount() > 0 && !c.getRunCommandCleaner(0).startsWith("/")) {
            throw new IllegalArgumentException("run_command_cleaner \"" + c.getRunCommandCleaner(0)
                    + "\" is not an absolute path");
        }
    }

    private static IllegalArgumentException unsupported(String what) {
        return new IllegalArgumentException(what + " is not supported by mountkeeper bb-runner; remove it");
    }

    private static List<MountSpec> mounts(ApplicationConfiguration c) {
        List<MountSpec> out = new ArrayList<>();
        for (InputMountOptions m : c.getInputRootMountsList()) out.add(mount(m));
        for (String spec : c.getInputRootMountSpecsList()) {
            try {
                out.add(MountSpecs.parse(spec));
            } catch (InvalidSpecException e) {
                throw new IllegalArgumentException("input_root_mount_specs: " + e.getMessage(), e);
            }
        }
        return List.copyOf(out);
    }

    /** Upstream's proposed shape: proc, sysfs (always read-only), tmpfs, or a bind of a host path. */
    private static MountSpec mount(InputMountOptions m) {
        String at = "input_root_mounts entry \"" + m.getMountpoint() + "\"";
        if (m.getMountpoint().startsWith("/")) {
            throw new IllegalArgumentException(at + ": mountpoint must be relative to the input root");
        }
        String dest = SpecPaths.absolute(at + " mountpoint", "/" + m.getMountpoint());
        if (dest.equals("/")) throw new IllegalArgumentException(at + ": cannot mount over the input root itself");
        boolean ro = m.getReadOnly();
        MountOptions fs = new MountOptions(ro, false, false, false, null, false, false, null, null);
        return switch (m.getFilesystemType()) {
            case "proc" -> new MountSpec.Filesystem(MountSpec.FsType.PROC, "", dest, fs);
            case "sysfs" -> new MountSpec.Filesystem(MountSpec.FsType.SYSFS, "", dest, fs.withReadOnly(true));
            case "tmpfs" -> new MountSpec.Filesystem(MountSpec.FsType.TMPFS, "", dest, fs);
            case "bind", "rbind", "" -> {
                if (m.getSource().isEmpty()) throw new IllegalArgumentException(at + ": a bind needs a source");
                String source = SpecPaths.absolute(at + " source", m.getSource());
                boolean recursive = !m.getFilesystemType().equals("bind");
                yield new MountSpec.Bind(MountSpec.BindType.BIND, source, dest,
                        new MountOptions(ro, false, false, false, Propagation.PRIVATE, recursive, false, null, null));
            }
            default -> throw new IllegalArgumentException(at + ": filesystem_type \"" + m.getFilesystemType()
                    + "\" is not one of proc, sysfs, tmpfs, bind, rbind (input_root_mount_specs takes any spec)");
        };
    }
}
