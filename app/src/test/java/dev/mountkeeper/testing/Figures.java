package dev.mountkeeper.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Prints a security or fault figure and keeps it in target/figures.txt for the closing note. */
public final class Figures {
    private Figures() {}

    public static synchronized void report(String figure) {
        System.out.println("FIGURE " + figure);
        try {
            Files.writeString(Path.of("app/target/figures.txt"), figure + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("(could not record the figure: " + e + ")");
        }
    }
}
