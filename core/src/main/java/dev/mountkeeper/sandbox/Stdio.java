package dev.mountkeeper.sandbox;

/** Where the command's standard streams go. Paths are host paths, opened before the sandbox exists. */
public record Stdio(Redirect in, Redirect out, Redirect err) {
    public static final Stdio INHERIT = new Stdio(Redirect.INHERIT, Redirect.INHERIT, Redirect.INHERIT);

    public sealed interface Redirect {
        Redirect INHERIT = new Inherit();
        Redirect NULL = new Null();

        record Inherit() implements Redirect {}

        /** /dev/null, readable and writable: end of file for input, discarded for output. */
        record Null() implements Redirect {}

        record FromFile(String path) implements Redirect {}

        /** @param exclusive create the file with O_EXCL, as Buildbarn wants for an action's outputs; else truncate */
        record ToFile(String path, boolean exclusive) implements Redirect {}

        /** A file the caller opened (say, beneath a directory fd) and keeps owning: the sandbox does not close it. */
        record Opened(dev.mountkeeper.linux.Fd fd) implements Redirect {}
    }
}
