package dev.mountkeeper.cli;

import dev.mountkeeper.shared.proto.AcquireRequest;
import dev.mountkeeper.shared.proto.Holder;
import dev.mountkeeper.shared.proto.ReleaseRequest;
import dev.mountkeeper.shared.proto.SweepRequest;
import java.util.List;

/**
 * The JSON bodies the client commands send. Kept apart from the command classes, whose method
 * signatures picocli inspects at start: protobuf stays off the class path of `run`.
 */
final class ClientRequests {
    private ClientRequests() {}

    /** The holder: {@code pid}, else the process that ran this command (a script or a build task), not this client. */
    private static Holder holder(Long pid, String buildId) {
        long p = pid != null ? pid : parentPid();
        return Holder.newBuilder().setPid(p).setBuildId(buildId == null ? "" : buildId).build();
    }

    static long parentPid() {
        return ProcessHandle.current().parent().map(ProcessHandle::pid)
                .orElseThrow(() -> new IllegalArgumentException("Cannot tell which process ran this command; give --holder"));
    }

    static String acquire(String context, Long pid, String buildId, List<String> specs) {
        return JsonText.print(AcquireRequest.newBuilder().setContext(context).setHolder(holder(pid, buildId)).addAllSpecs(specs));
    }

    static String release(String context, Long pid, boolean all, List<String> specs) {
        return JsonText.print(ReleaseRequest.newBuilder().setContext(context).setHolder(holder(pid, null)).setAll(all)
                .addAllSpecs(specs));
    }

    static String sweep(String context, String under, boolean reportOnly, String once) {
        SweepRequest.Builder b = SweepRequest.newBuilder().setReportOnly(reportOnly);
        if (context != null) b.setContext(context);
        if (under != null) b.setUnder(under);
        if (once != null) b.setOnce(once);
        return JsonText.print(b);
    }
}
