package dev.mountkeeper.provider;

import dev.mountkeeper.mount.MountProvider;
import java.util.List;

/** The providers mountkeeper ships, written against the same interface as anyone's. */
public final class Builtins implements MountProvider.Catalog {
    @Override
    public List<MountProvider> providers() {
        return List.of(new OverlayProvider(), new ImageProvider());
    }
}
