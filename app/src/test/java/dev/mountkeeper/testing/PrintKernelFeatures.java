package dev.mountkeeper.testing;

import dev.mountkeeper.mount.KernelFeatures;

/** Prints what {@link KernelFeatures} detects on the running kernel; scripts/kernels runs it in each guest. */
public final class PrintKernelFeatures {
    private PrintKernelFeatures() {}

    public static void main(String[] args) {
        KernelFeatures f = KernelFeatures.detect();
        System.out.println("FEATURES " + (f.mountApi() ? "mount-api " : "") + (f.listmount() ? "listmount " : "")
                + (f.uniqueMountIds() ? "mnt-id-unique " : "") + (f.procPidns() ? "pidns" : "") + "| " + f);
    }
}
