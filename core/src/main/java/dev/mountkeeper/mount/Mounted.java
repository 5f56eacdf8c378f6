package dev.mountkeeper.mount;

/**
 * What one spec made: its symlink-free path inside the root and the id of the mount on top there
 * (0 for specs that make no mount, or a "try" bind whose source was missing).
 */
public record Mounted(MountSpec spec, String path, long mountId) {
    public boolean isMount() {
        return mountId != 0;
    }
}
