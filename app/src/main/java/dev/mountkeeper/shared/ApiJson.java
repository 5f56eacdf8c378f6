package dev.mountkeeper.shared;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.math.BigInteger;
import java.util.Map;

/**
 * The API's JSON: protobuf's JSON mapping with the proto field names and every field always
 * present (an absent message as null), except that 64-bit integers are JSON numbers, as the 32-bit ones are (protobuf prints
 * them as strings). JsonFormat has no option for that, so the printed tree is walked once with the
 * message's descriptor and each int64/uint64 string becomes the number it spells. JsonFormat's
 * parser takes either form, so older clients' strings are still understood.
 */
public final class ApiJson {
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
            .includingDefaultValueFields();
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private ApiJson() {}

    public static String print(MessageOrBuilder m) {
        try {
            JsonObject tree = JsonParser.parseString(PRINTER.print(m)).getAsJsonObject();
            return GSON.toJson(numbers(m.getDescriptorForType(), tree));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code o} with its fields in the schema's order, absent messages as null, 64-bit integers as numbers. */
    private static JsonObject numbers(Descriptor d, JsonObject o) {
        JsonObject out = new JsonObject();
        for (FieldDescriptor f : d.getFields()) {
            JsonElement v = o.get(f.getName());
            if (v == null || v.isJsonNull()) {
                // Only a message field can be absent (it has presence): it is there, as null.
                out.add(f.getName(), JsonNull.INSTANCE);
            } else if (f.isMapField()) {
                FieldDescriptor value = f.getMessageType().findFieldByName("value");
                for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) e.setValue(number(value, e.getValue()));
                out.add(f.getName(), v);
            } else if (f.isRepeated()) {
                JsonArray a = v.getAsJsonArray();
                for (int i = 0; i < a.size(); i++) a.set(i, number(f, a.get(i)));
                out.add(f.getName(), a);
            } else {
                out.add(f.getName(), number(f, v));
            }
        }
        return out;
    }

    private static JsonElement number(FieldDescriptor f, JsonElement v) {
        if (f.getJavaType() == FieldDescriptor.JavaType.LONG) return new JsonPrimitive(new BigInteger(v.getAsString()));
        // The API has no well-known types (Timestamp, Any, ...), whose JSON forms are not objects of fields.
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && v.isJsonObject()) return numbers(f.getMessageType(), v.getAsJsonObject());
        return v;
    }
}
