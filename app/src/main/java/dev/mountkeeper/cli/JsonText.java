package dev.mountkeeper.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.shared.proto.ContextStatus;
import dev.mountkeeper.shared.proto.Error;
import dev.mountkeeper.shared.proto.Outcome;
import dev.mountkeeper.shared.proto.Status;
import dev.mountkeeper.shared.proto.TargetStatus;

/** The daemon's JSON answers as text for people. */
final class JsonText {
    private JsonText() {}

    static <B extends Message.Builder> B parse(String json, B b) {
        try {
            JsonFormat.parser().ignoringUnknownFields().merge(json, b);
            return b;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("The daemon's answer is not what this client understands: " + e.getMessage(), e);
        }
    }

    /** A request body, in the daemon's own JSON (int64 fields as numbers). */
    static String print(Message.Builder b) {
        return dev.mountkeeper.shared.ApiJson.print(b);
    }

    static String error(String json) {
        try {
            return parse(json, Error.newBuilder()).getError();
        } catch (IllegalStateException e) {
            return json.strip();
        }
    }

    static String outcome(String json) {
        Outcome o = parse(json, Outcome.newBuilder()).build();
        StringBuilder b = new StringBuilder();
        for (String a : o.getActionsList()) b.append(a).append('\n');
        return b.toString();
    }

    static String status(String json) {
        Status s = parse(json, Status.newBuilder()).build();
        StringBuilder b = new StringBuilder();
        for (ContextStatus c : s.getContextsList()) {
            b.append("context ").append(c.getName()).append('\n');
            for (TargetStatus t : c.getTargetsList()) {
                b.append("  ").append(t.getTarget()).append("  ").append(t.getState()).append(", ").append(t.getCount())
                        .append(t.getCount() == 1 ? " holder" : " holders");
                t.getHoldersList().forEach(h -> b.append(" ").append(h.getPid())
                        .append(h.getBuildId().isEmpty() ? "" : "(" + h.getBuildId() + ")"));
                b.append('\n');
                if (!t.getSpec().isEmpty()) b.append("    spec ").append(t.getSpec()).append('\n');
                t.getMountsList().forEach(m -> b.append("    ").append(m).append('\n'));
                t.getBusyWithList().forEach(m -> b.append("    busy: ").append(m).append('\n'));
            }
        }
        return b.toString();
    }
}
