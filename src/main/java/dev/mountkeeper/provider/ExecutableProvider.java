package dev.mountkeeper.provider;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountProvider;
import dev.mountkeeper.provider.proto.PluginReply;
import dev.mountkeeper.provider.proto.PluginRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A provider that is a program: it gets a {@code PluginRequest} as JSON on standard input and
 * answers a {@code PluginReply} on standard output (src/main/proto/mountkeeper/plugin.proto).
 * It runs in the caller's mount namespace (a sandbox's own, before its root exists), and is killed
 * with everything it started when it takes longer than the request's timeout.
 */
record ExecutableProvider(String name, Path program) implements MountProvider {
    @Override
    public Kind mount(Request r) throws IOException {
        String request = JsonFormat.printer().preservingProtoFieldNames().print(PluginRequest.newBuilder().setVersion(1)
                .setProvider(name).setSource(r.source()).setDest(r.dest()).addAllOptions(r.options())
                .setStaging(r.staging()));
        Process p = new ProcessBuilder(program.toString()).start();
        CompletableFuture<String> out = drain(p.getInputStream()), err = drain(p.getErrorStream());
        try (OutputStream in = p.getOutputStream()) {
            in.write(request.getBytes(StandardCharsets.UTF_8));
        } catch (IOException closedEarly) {
            // a plugin that does not read its request still gets judged by its exit and its mount
        }
        try {
            if (!p.waitFor(r.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                        + " did not finish within " + r.timeout().toMillis() + " ms and was killed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new MountException(MountException.Reason.SYSTEM, "Interrupted while " + program + " ran");
        }
        if (p.exitValue() != 0) {
            String why = err.join().strip();
            throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString()) + " exited "
                    + p.exitValue() + (why.isEmpty() ? "" : ": " + why.lines().reduce((a, b) -> b).orElse("")));
        }
        String reply = out.join().strip();
        if (reply.isEmpty()) return Kind.UNSAID;
        PluginReply.Builder b = PluginReply.newBuilder();
        try {
            JsonFormat.parser().ignoringUnknownFields().merge(reply, b);
        } catch (InvalidProtocolBufferException e) {
            throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                    + " answered something that is not a plugin reply: " + e.getMessage());
        }
        return switch (b.getKind()) {
            case "file" -> Kind.FILE;
            case "directory" -> Kind.DIRECTORY;
            case "" -> Kind.UNSAID;
            default -> throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                    + " answered an unknown kind " + Quote.string(b.getKind()) + " (file, directory, or none)");
        };
    }

    private static CompletableFuture<String> drain(InputStream s) {
        return CompletableFuture.supplyAsync(() -> {
            try (s) {
                return new String(s.readNBytes(1 << 20), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, r -> Thread.ofVirtual().start(r));
    }
}
