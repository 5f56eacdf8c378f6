package dev.mountkeeper.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinuxLayerTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
            "zero           ; 0                   ; 0",
            "bind           ; 4096                ; MS_BIND",
            "bind,rec       ; 20480               ; MS_BIND|MS_REC",
            "unknown bits   ; 2147488256          ; MS_BIND|0x80000200",
            "remount ro     ; 4129                ; MS_RDONLY|MS_REMOUNT|MS_BIND",
    })
    void flagsPrintAsC(String name, long value, String expected) {
        assertThat(MountSyscalls.MS.format(value)).isEqualTo(expected);
    }

    @Test
    void errorsReadAsTheCallThenTheErrno() {
        assertThatThrownBy(() -> FileSyscalls.openat2(FileSyscalls.AT_FDCWD, "/nonexistent", FileSyscalls.O_PATH, 0,
                FileSyscalls.RESOLVE_NO_SYMLINKS))
                .isInstanceOf(ErrnoException.class)
                .hasMessage("openat2(AT_FDCWD, \"/nonexistent\", {flags=O_CLOEXEC|O_PATH, mode=00, "
                        + "resolve=RESOLVE_NO_SYMLINKS}, 24): ENOENT (No such file or directory)")
                .satisfies(e -> assertThat(((ErrnoException) e).syscall()).isEqualTo("openat2"));
    }

    @Test
    void errnoIsCapturedPerCallAcrossThreads() throws Exception {
        // Two threads fail with different errnos at the same time; each must see its own.
        Thread[] ts = new Thread[4];
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < ts.length; i++) {
            boolean enoent = i % 2 == 0;
            ts[i] = Thread.ofPlatform().start(() -> {
                for (int j = 0; j < 5000; j++) {
                    try {
                        FileSyscalls.openat2(FileSyscalls.AT_FDCWD, enoent ? "/nonexistent" : "/etc/hostname/x",
                                FileSyscalls.O_PATH, 0, 0);
                    } catch (ErrnoException e) {
                        if (!e.is(enoent ? Errno.ENOENT : Errno.ENOTDIR)) wrong.incrementAndGet();
                    }
                }
            });
        }
        for (Thread t : ts) t.join();
        assertThat(wrong.get()).isZero();
    }

    @Test
    void fdRefusesDoubleClose() throws Exception {
        Fd fd = FileSyscalls.openat2(FileSyscalls.AT_FDCWD, "/", FileSyscalls.O_PATH, 0, 0);
        fd.close();
        assertThatThrownBy(fd::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed twice");
        assertThatThrownBy(fd::get).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void nulInAPathIsRefusedBeforeTheKernelSeesIt() {
        assertThatThrownBy(() -> FileSyscalls.openat2(FileSyscalls.AT_FDCWD, "/etc\0/passwd", 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NUL");
    }

    /** The errno constants are typed by hand; check them against the kernel headers where installed. */
    @Test
    void errnoConstantsMatchTheKernelHeaders() throws Exception {
        String headers = "";
        for (String h : new String[] {"/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h"}) {
            if (Files.exists(Path.of(h))) headers += Files.readString(Path.of(h));
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(headers.isEmpty(), "no kernel headers installed");
        int checked = 0;
        for (var f : Errno.class.getFields()) {
            if (f.getType() != Errno.class) continue;
            Matcher m = Pattern.compile("#define\\s+" + f.getName() + "\\s+(\\d+)").matcher(headers);
            assertThat(m.find()).as(f.getName()).isTrue();
            assertThat(((Errno) f.get(null)).number()).as(f.getName()).isEqualTo(Integer.parseInt(m.group(1)));
            assertThat(((Errno) f.get(null)).name()).isEqualTo(f.getName());
            checked++;
        }
        assertThat(checked).isGreaterThan(20);
    }
}
